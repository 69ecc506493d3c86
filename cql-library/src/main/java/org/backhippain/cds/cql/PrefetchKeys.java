package org.backhippain.cds.cql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.backhippain.cds.fhir.PrefetchTemplate;

/**
 * The one definition of which resource types each prefetch key brings: the prefetch templates of
 * the content's services ({@code cds-services.json}, clinical spec §2), each key once, its types
 * derived from its query ({@link PrefetchTemplate#of}: the read or search type and the {@code
 * _include}d ones). The service's fetch plans, the test cases, the demo server, the rule book and
 * the benchmarks all ask this, never a list of their own.
 */
public final class PrefetchKeys {
  private final Map<String, PrefetchTemplate> templates;

  private PrefetchKeys(Map<String, PrefetchTemplate> templates) {
    this.templates = Collections.unmodifiableMap(templates);
  }

  /** The prefetch keys of the content's services, in the order the services list them. */
  public static PrefetchKeys of(ContentPackage content) {
    Map<String, PrefetchTemplate> out = new LinkedHashMap<>();
    try {
      JsonNode services =
          new ObjectMapper().readTree(content.file("cds-services.json").orElseThrow());
      Set<String> required = new LinkedHashSet<>();
      services.path("requiredPrefetch").forEach(k -> required.add(k.asText()));
      for (JsonNode service : services.path("services")) {
        service
            .path("prefetch")
            .fields()
            .forEachRemaining(
                e ->
                    out.putIfAbsent(
                        e.getKey(),
                        PrefetchTemplate.of(
                            e.getKey(), e.getValue().asText(), required.contains(e.getKey()))));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cds-services.json", e);
    }
    return new PrefetchKeys(out);
  }

  /** Keys from templates given by key (the build's checks try variants of the content's). */
  static PrefetchKeys of(Map<String, PrefetchTemplate> templates) {
    return new PrefetchKeys(new LinkedHashMap<>(templates));
  }

  /** Every key's template, by key. */
  public Map<String, PrefetchTemplate> templates() {
    return templates;
  }

  /** The keys whose data holds resources of this type (its search, read or include). */
  public List<String> keysFor(String type) {
    return templates.values().stream()
        .filter(t -> t.accepts(type))
        .map(PrefetchTemplate::key)
        .toList();
  }

  /** The key that brings resources of this type, if any (the first when several do). */
  public Optional<String> keyFor(String type) {
    return keysFor(type).stream().findFirst();
  }

  /** The resource types one key brings (empty for an unknown key). */
  public Set<String> types(String key) {
    PrefetchTemplate t = templates.get(key);
    if (t == null) {
      return Set.of();
    }
    Set<String> types = new LinkedHashSet<>();
    types.add(t.resourceType());
    types.addAll(t.alsoAccepted());
    return types;
  }

  /** Every resource type some key brings. */
  public Set<String> types() {
    Set<String> all = new LinkedHashSet<>();
    templates.keySet().forEach(k -> all.addAll(types(k)));
    return all;
  }
}
