package org.backhippain.cds.fhir;

import java.util.Objects;
import java.util.Set;

/**
 * One prefetch template of a CDS service, as published by discovery: a key, a FHIR query relative
 * to the EHR's FHIR base with {@code {{...}}} tokens, and whether the service cannot answer without
 * it (a required key that cannot be had ends in 412).
 *
 * @param resourceType the type the query returns: the read type for {@code Type/id}, the search
 *     type for {@code Type?...}
 * @param alsoAccepted further resource types a search may include (from {@code _include})
 */
public record PrefetchTemplate(
    String key, String query, boolean required, String resourceType, Set<String> alsoAccepted) {

  public PrefetchTemplate {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(query, "query");
    alsoAccepted = Set.copyOf(alsoAccepted);
  }

  /** Derives the resource types from the query itself. */
  public static PrefetchTemplate of(String key, String query, boolean required) {
    String path = query.contains("?") ? query.substring(0, query.indexOf('?')) : query;
    String type = path.contains("/") ? path.substring(0, path.indexOf('/')) : path;
    Set<String> includes = new java.util.LinkedHashSet<>();
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("_include=[A-Za-z]+:([a-zA-Z]+)").matcher(query);
    while (m.find()) {
      String param = m.group(1);
      includes.add(Character.toUpperCase(param.charAt(0)) + param.substring(1));
    }
    return new PrefetchTemplate(key, query, required, type, includes);
  }

  /** True when the query reads one resource ({@code Patient/{{context.patientId}}}). */
  public boolean isRead() {
    return !query.contains("?") && query.indexOf('/') > 0;
  }

  /** True when a resource of this type belongs in this key's data (the type or an include). */
  public boolean accepts(String type) {
    return resourceType.equals(type) || alsoAccepted.contains(type);
  }
}
