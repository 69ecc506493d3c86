package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * The clinical content (the {@code content} module) as loaded from the classpath: CQL sources,
 * terminology, PlanDefinitions, ActivityDefinitions, service definitions and test cases. Files are
 * listed by {@code content/index.txt}, which the content build writes, so loading works the same
 * from a directory, a jar or a jar nested in the service's executable jar.
 */
public final class ContentPackage {
  /** Canonical base of every content resource; also the system of the rule and reason codes. */
  public static final String CANONICAL_BASE = "https://back-hip-pain-cds.org/fhir";

  public static final String RULE_SYSTEM = CANONICAL_BASE + "/CodeSystem/rules";
  public static final String OVERRIDE_REASON_SYSTEM =
      CANONICAL_BASE + "/CodeSystem/override-reasons";

  private static final String ROOT = "content/";
  private static final Pattern LIBRARY =
      Pattern.compile(
          "^\\s*library\\s+\"?([A-Za-z0-9_]+)\"?(?:\\s+version\\s+'([^']+)')?", Pattern.MULTILINE);

  private final Map<String, String> files;
  private final List<ValueSet> valueSets = new ArrayList<>();
  private final List<CodeSystem> codeSystems = new ArrayList<>();
  private final List<ConceptMap> conceptMaps = new ArrayList<>();
  private final List<IBaseResource> resources = new ArrayList<>();
  private final List<PlanDefinition> planDefinitions = new ArrayList<>();
  private final List<ActivityDefinition> activityDefinitions = new ArrayList<>();
  private final Map<String, CqlSource> cql = new LinkedHashMap<>();

  private ContentPackage(FhirContext fhir, Map<String, String> files) {
    this.files = Collections.unmodifiableMap(files);
    var parser = fhir.newJsonParser();
    files.forEach(
        (path, text) -> {
          if (path.startsWith("input/cql/") && path.endsWith(".cql")) {
            CqlSource source = CqlSource.of(path, text);
            cql.put(source.name(), source);
          } else if (path.startsWith("input/vocabulary/") || path.startsWith("input/resources/")) {
            if (path.endsWith(".json")) {
              IBaseResource resource = parser.parseResource(text);
              resources.add(resource);
              if (resource instanceof ValueSet vs) valueSets.add(vs);
              else if (resource instanceof CodeSystem cs) codeSystems.add(cs);
              else if (resource instanceof ConceptMap cm) conceptMaps.add(cm);
              else if (resource instanceof PlanDefinition pd) planDefinitions.add(pd);
              else if (resource instanceof ActivityDefinition ad) activityDefinitions.add(ad);
            }
          }
        });
  }

  /** Loads the content from the class path of this library. */
  public static ContentPackage load(FhirContext fhir) {
    ClassLoader loader = ContentPackage.class.getClassLoader();
    String index = read(loader, ROOT + "index.txt");
    Map<String, String> files = new LinkedHashMap<>();
    for (String line : index.split("\\R")) {
      String path = line.strip();
      if (!path.isEmpty()) {
        files.put("input/" + path, read(loader, ROOT + path));
      }
    }
    return new ContentPackage(fhir, files);
  }

  private static String read(ClassLoader loader, String name) {
    try (InputStream in = loader.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("content file missing from the class path: " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A file's text by its path in the content tree, e.g. {@code input/cds-services.json}. */
  public Optional<String> file(String path) {
    return Optional.ofNullable(files.get(path));
  }

  /** Paths of every file under a folder of the content tree, in index (sorted) order. */
  public List<String> paths(String folder) {
    String prefix = folder.endsWith("/") ? folder : folder + "/";
    return files.keySet().stream().filter(p -> p.startsWith(prefix)).toList();
  }

  /** Every FHIR resource of the content (terminology, definitions, extensions). */
  public List<IBaseResource> resources() {
    return List.copyOf(resources);
  }

  public List<ValueSet> valueSets() {
    return List.copyOf(valueSets);
  }

  public List<CodeSystem> codeSystems() {
    return List.copyOf(codeSystems);
  }

  public List<ConceptMap> conceptMaps() {
    return List.copyOf(conceptMaps);
  }

  public List<PlanDefinition> planDefinitions() {
    return List.copyOf(planDefinitions);
  }

  public List<ActivityDefinition> activityDefinitions() {
    return List.copyOf(activityDefinitions);
  }

  public Optional<ActivityDefinition> activityDefinition(String canonical) {
    return activityDefinitions.stream().filter(a -> canonical.equals(a.getUrl())).findFirst();
  }

  public Optional<CodeSystem> codeSystem(String url) {
    return codeSystems.stream().filter(c -> url.equals(c.getUrl())).findFirst();
  }

  /** CQL libraries by library name. */
  public Map<String, CqlSource> cql() {
    return Collections.unmodifiableMap(cql);
  }

  /** One CQL library's source text with its declared name and version. */
  public record CqlSource(String path, String name, String version, String text) {
    static CqlSource of(String path, String text) {
      Matcher m = LIBRARY.matcher(text);
      if (!m.find()) {
        throw new IllegalStateException(path + ": no 'library' declaration");
      }
      return new CqlSource(path, m.group(1), m.group(2), text);
    }
  }
}
