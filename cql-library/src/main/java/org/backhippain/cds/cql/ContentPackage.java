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
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.DataRequirement;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.utilities.npm.NpmPackage;

/**
 * The clinical content: CQL, terminology, PlanDefinitions, ActivityDefinitions, extension
 * definitions, card text, handouts, the service definitions and the example cases.
 *
 * <p>What runs is loaded from the FHIR NPM package the build makes ({@link #load}): its resources
 * (the CQL is the {@code text/cql} content of each Library) and its {@code other/} folder (card
 * templates, handouts, {@code cds-services.json}, cases). Only the build (content-build's {@code
 * PackageBuilder}) reads the {@code content} module's source tree ({@link #sources}), listed by
 * {@code content/index.txt}. Either way, files are keyed by their path below the content root, e.g.
 * {@code cards/why.mustache}.
 */
public final class ContentPackage {
  /** Canonical base of every content resource; also the system of the rule and reason codes. */
  public static final String CANONICAL_BASE = "https://back-hip-pain-cds.org/fhir";

  public static final String RULE_SYSTEM = CANONICAL_BASE + "/CodeSystem/rules";
  public static final String OVERRIDE_REASON_SYSTEM =
      CANONICAL_BASE + "/CodeSystem/override-reasons";

  /** The path of the rule pages below the page base: {@code /review/<rule id>}. */
  public static final String RULE_PAGES = "/review/";

  /** Where the build puts the package on the class path. */
  public static final String PACKAGE_RESOURCE = "fhir-package/" + ContentPackage.NAME + ".tgz";

  /** The package's name and version ({@code package.json}). */
  public static final String NAME = "org.back-hip-pain-cds.content";

  public static final String VERSION = "0.1.0";

  /** The package folder holding the content's non-FHIR files. */
  static final String OTHER = "other";

  static final String FHIR_HELPERS = "FHIRHelpers";
  static final String CQL = "text/cql";
  static final String ELM_JSON = "application/elm+json";
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
  private final Map<String, String> elm;
  private final Map<String, List<DataRequirement>> dataRequirements;
  private final String pageBase;

  ContentPackage(
      Map<String, String> files,
      List<IBaseResource> resources,
      List<CqlSource> cql,
      Map<String, String> elm,
      Map<String, List<DataRequirement>> dataRequirements,
      String pageBase) {
    this.files = Collections.unmodifiableMap(files);
    this.elm = Collections.unmodifiableMap(elm);
    this.dataRequirements = Collections.unmodifiableMap(dataRequirements);
    this.pageBase = pageBase;
    cql.forEach(source -> this.cql.put(source.name(), source));
    for (IBaseResource resource : resources) {
      this.resources.add(resource);
      if (resource instanceof ValueSet vs) valueSets.add(vs);
      else if (resource instanceof CodeSystem cs) codeSystems.add(cs);
      else if (resource instanceof ConceptMap cm) conceptMaps.add(cm);
      else if (resource instanceof PlanDefinition pd) planDefinitions.add(pd);
      else if (resource instanceof ActivityDefinition ad) activityDefinitions.add(ad);
    }
  }

  /**
   * Loads the content from the FHIR package on the class path of this library: the same {@code
   * .tgz} an integrator loads into another server.
   */
  public static ContentPackage load(FhirContext fhir) {
    try (InputStream in = classLoader().getResourceAsStream(PACKAGE_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            "FHIR package missing from the class path: " + PACKAGE_RESOURCE);
      }
      return fromPackage(NpmPackage.fromPackage(in), fhir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads a FHIR package's resources and its {@code other/} files. */
  static ContentPackage fromPackage(NpmPackage npm, FhirContext fhir) throws IOException {
    var parser = fhir.newJsonParser();
    List<IBaseResource> resources = new ArrayList<>();
    List<CqlSource> cql = new ArrayList<>();
    Map<String, String> elm = new LinkedHashMap<>();
    Map<String, List<DataRequirement>> dataRequirements = new LinkedHashMap<>();
    for (String file : npm.listResources()) {
      IBaseResource resource = parser.parseResource(text(npm.loadResource(file)));
      if (resource instanceof Library library) {
        // FHIRHelpers is in the package so that references resolve inside it; the translator
        // brings the identical 4.0.1 text itself.
        if (!FHIR_HELPERS.equals(library.getName())) {
          cql.add(
              CqlSource.of(
                  file,
                  content(library, CQL)
                      .orElseThrow(
                          () ->
                              new IllegalStateException(
                                  "Library " + library.getName() + " has no " + CQL))));
        }
        content(library, ELM_JSON).ifPresent(json -> elm.put(library.getName(), json));
        dataRequirements.put(library.getName(), List.copyOf(library.getDataRequirement()));
      } else {
        resources.add(resource);
      }
    }
    Map<String, String> files = new TreeMap<>();
    for (var folder : npm.getFolders().entrySet()) {
      String name = folder.getKey();
      if (name.equals(OTHER) || name.startsWith(OTHER + "/")) {
        String relative = name.equals(OTHER) ? "" : name.substring(OTHER.length() + 1) + "/";
        for (String file : folder.getValue().listFiles()) {
          files.put(relative + file, text(npm.load(name, file)));
        }
      }
    }
    return new ContentPackage(
        files,
        resources,
        cql,
        elm,
        dataRequirements,
        npm.url() == null ? CANONICAL_BASE : npm.url());
  }

  private static Optional<String> content(Library library, String contentType) {
    return library.getContent().stream()
        .filter(a -> contentType.equals(a.getContentType()))
        .findFirst()
        .map(a -> new String(a.getData(), StandardCharsets.UTF_8));
  }

  static ClassLoader classLoader() {
    return ContentPackage.class.getClassLoader();
  }

  private static String text(InputStream in) throws IOException {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** A non-FHIR file's text by its path below the content root, e.g. {@code cds-services.json}. */
  public Optional<String> file(String path) {
    return Optional.ofNullable(files.get(path));
  }

  /** Every non-FHIR file, by path below the content root, in path order. */
  Map<String, String> files() {
    return files;
  }

  /** Paths of every non-FHIR file under a folder (e.g. {@code tests}), in path order. */
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

  /**
   * The precompiled ELM (JSON) of every Library that carries it, FHIRHelpers included, by library
   * name; empty for the sources.
   */
  public Map<String, String> elm() {
    return elm;
  }

  /** The same content without its precompiled ELM: the engine then translates the CQL. */
  ContentPackage withoutElm() {
    return new ContentPackage(
        files, resources, List.copyOf(cql.values()), Map.of(), dataRequirements, pageBase);
  }

  /** The same content with one more CQL library (generated by the build: {@code CardText}). */
  ContentPackage withCql(CqlSource extra) {
    List<CqlSource> all = new ArrayList<>(cql.values());
    all.add(extra);
    return new ContentPackage(files, resources, all, elm, dataRequirements, pageBase);
  }

  /**
   * The data each library reads (its includes' with it), by library name, as the build computed
   * them from the ELM ({@link DataRequirements}); empty for the sources.
   */
  public Map<String, List<DataRequirement>> dataRequirements() {
    return dataRequirements;
  }

  /**
   * Where the package's pages (rule pages {@code /review/<rule id>}, handouts {@code
   * /handouts/<name>}) live: the {@code url} of its {@code package.json}, the public handout base
   * it was built with. Its links start with this; the service puts its own public base URL instead.
   */
  public String pageBase() {
    return pageBase;
  }

  /** The absolute link to one of the package's pages, e.g. {@code /handouts/self-care}. */
  public String pageLink(String path) {
    return pageBase + path;
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
