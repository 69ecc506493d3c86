package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DataRequirement;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.Library;
import org.hl7.fhir.r4.model.MetadataResource;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * Builds the content as a FHIR NPM package (FHIR 4.0.1): a Library per CQL library (the CQL as
 * text/cql, FHIRHelpers included so every reference resolves inside), the PlanDefinitions,
 * ActivityDefinitions, ValueSets with the expansions the terminology build wrote, CodeSystems, the
 * product ConceptMap and the StructureDefinitions of the project's extensions; with {@code
 * package.json} and {@code .index.json}; card templates, handouts, {@code cds-services.json} and
 * the example cases in {@code other/}. Writes {@code target/<name>-<version>.tgz} and copies it
 * onto the class path ({@link ContentPackage#PACKAGE_RESOURCE}), from where the service loads it.
 * Run by the cql-library build.
 */
public final class PackageBuilder {
  public static final String NAME = ContentPackage.NAME;
  public static final String VERSION = ContentPackage.VERSION;
  private static final Pattern INCLUDE = Pattern.compile("include (\\w+) version '([^']+)'");
  private static final String TOO_COSTLY =
      "http://hl7.org/fhir/StructureDefinition/valueset-toocostly";

  private PackageBuilder() {}

  public static void main(String[] args) throws IOException {
    Path classes = Path.of(args[0]);
    Path target = Path.of(args[1]);
    String pageBase = pageBase(args.length > 2 ? args[2] : ContentPackage.CANONICAL_BASE);
    FhirContext fhir = FhirContext.forR4Cached();
    ContentPackage sources = ContentSources.read(fhir);
    CqlCompilation compilation = CqlCheck.check(sources);
    long start = System.nanoTime();
    CardText.Library cardText =
        CardText.generate(sources, compilation, RuleCatalog.of(sources), VERSION);
    ContentPackage.CqlSource cardTextSource =
        ContentPackage.CqlSource.of("(generated) " + CardText.LIBRARY + ".cql", cardText.cql());
    compilation = compilation.with(cardTextSource);
    CqlCheck.failOn(compilation.problems().stream().map(Object::toString).toList());
    ContentPackage content = sources.withCql(cardTextSource);
    System.out.printf(
        "Card text: %d defines generated from the templates into %s, in %d ms%n",
        cardText.defines().size(), CardText.LIBRARY, (System.nanoTime() - start) / 1_000_000);
    start = System.nanoTime();
    Map<String, List<DataRequirement>> requirements = DataRequirements.gather(content, compilation);
    CqlCheck.failOn(DataRequirements.coverageProblems(content, requirements));
    DataRequirements.addQueryPatterns(requirements, DataRequirements.prefetch(content));
    System.out.printf(
        "Data requirements: %d in %d libraries, all brought by the prefetch keys, in %d ms%n",
        requirements.values().stream().mapToInt(List::size).sum(),
        requirements.size(),
        (System.nanoTime() - start) / 1_000_000);
    List<Resource> resources =
        resources(content, compilation, new Packaging(cardText, requirements, pageBase));
    IParser json = fhir.newJsonParser().setPrettyPrint(true);
    ObjectMapper mapper = new ObjectMapper();
    ArrayNode index = mapper.createArrayNode();
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(
        "package.json",
        mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(manifest(mapper, pageBase)));
    for (Resource r : resources) {
      String file = r.fhirType() + "-" + r.getIdElement().getIdPart() + ".json";
      files.put(file, json.encodeResourceToString(r).getBytes(StandardCharsets.UTF_8));
      ObjectNode entry = index.addObject();
      entry.put("filename", file);
      entry.put("resourceType", r.fhirType());
      entry.put("id", r.getIdElement().getIdPart());
      if (r instanceof MetadataResource m) {
        entry.put("url", m.getUrl());
        entry.put("version", m.getVersion());
      }
    }
    ObjectNode indexFile = mapper.createObjectNode();
    indexFile.put("index-version", 1);
    indexFile.set("files", index);
    files.put(".index.json", mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(indexFile));
    content
        .files()
        .forEach(
            (path, text) ->
                files.put(
                    ContentPackage.OTHER + "/" + path, text.getBytes(StandardCharsets.UTF_8)));
    Files.createDirectories(target);
    Path tgz = target.resolve(NAME + "-" + VERSION + ".tgz");
    try (OutputStream out = Files.newOutputStream(tgz);
        GZIPOutputStream gz = new GZIPOutputStream(out);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (Map.Entry<String, byte[]> f : files.entrySet()) {
        TarArchiveEntry entry = new TarArchiveEntry("package/" + f.getKey());
        entry.setSize(f.getValue().length);
        entry.setModTime(0);
        tar.putArchiveEntry(entry);
        tar.write(f.getValue());
        tar.closeArchiveEntry();
      }
    }
    Path onClassPath = classes.resolve(ContentPackage.PACKAGE_RESOURCE);
    Files.createDirectories(onClassPath.getParent());
    Files.copy(tgz, onClassPath, StandardCopyOption.REPLACE_EXISTING);
    System.out.printf(
        "FHIR package %s#%s: %d resources and %d other files in %s (%d bytes), on the class path as"
            + " %s%n",
        NAME,
        VERSION,
        resources.size(),
        content.files().size(),
        tgz,
        Files.size(tgz),
        ContentPackage.PACKAGE_RESOURCE);
  }

  /**
   * The public handout base: where a site serves the package's pages ({@code /handouts/…}, {@code
   * /review/…}); an absolute http(s) URL without a trailing slash.
   */
  static String pageBase(String base) {
    String trimmed = base.strip().replaceAll("/+$", "");
    if (!trimmed.matches("https?://[^\\s/?#]+(/[^\\s?#]*)?")) {
      throw new IllegalStateException("public handout base is not an http(s) URL: " + base);
    }
    return trimmed;
  }

  /**
   * {@code package.json}, with the fields HAPI FHIR's package installer reads: name, version,
   * canonical, {@code fhirVersions} and the core dependency; {@code url} is where the package's
   * pages are published (the public handout base).
   */
  static ObjectNode manifest(ObjectMapper mapper, String pageBase) {
    ObjectNode m = mapper.createObjectNode();
    m.put("name", NAME);
    m.put("version", VERSION);
    m.put("canonical", ContentPackage.CANONICAL_BASE);
    m.put("url", pageBase);
    m.put("title", "Back & Hip Pain CDS content");
    m.put(
        "description",
        "CQL, PlanDefinitions (eca-rule), terminology and extensions of the Back & Hip Pain CDS rule book.");
    m.put("author", "Back & Hip Pain CDS");
    m.put("license", "CC-BY-4.0");
    m.put("type", "fhir.ig");
    m.putArray("fhirVersions").add("4.0.1");
    m.putArray("jurisdiction").add("urn:iso:std:iso:3166#US");
    m.putObject("dependencies").put("hl7.fhir.r4.core", "4.0.1");
    return m;
  }

  /** What the build adds to the content's resources when it packages them. */
  record Packaging(
      CardText.Library cardText,
      Map<String, List<DataRequirement>> dataRequirements,
      String pageBase) {}

  /**
   * The package's resources: content resources (ValueSets as written, with their complete
   * expansions) and a Library per CQL library with its CQL and its ELM JSON.
   */
  static List<Resource> resources(
      ContentPackage content, CqlCompilation compilation, Packaging packaging) throws IOException {
    List<Resource> out = new ArrayList<>();
    RuleCatalog catalog = RuleCatalog.of(content);
    for (IBaseResource r : content.resources()) {
      Resource resource = ((Resource) r).copy();
      if (resource instanceof ValueSet vs) {
        requireExpansion(vs);
      }
      if (resource instanceof org.hl7.fhir.r4.model.StructureDefinition sd && !sd.hasSnapshot()) {
        snapshot(sd);
      }
      if (resource instanceof PlanDefinition plan) {
        RuleDefinition rule =
            catalog.rules().stream()
                .filter(d -> d.planDefinition().getUrl().equals(plan.getUrl()))
                .findFirst()
                .orElseThrow();
        links(plan, rule.ruleId(), packaging.pageBase());
        CardText.addDynamicValues(
            plan,
            packaging.cardText(),
            ContentPackage.CANONICAL_BASE + "/Library/" + CardText.LIBRARY);
      }
      out.add(resource);
    }
    for (ContentPackage.CqlSource source : content.cql().values()) {
      Library library =
          library(
              source.name(),
              source.version(),
              source.text(),
              elm(compilation, source.name()),
              description(source.text()));
      library.setDataRequirement(packaging.dataRequirements().get(source.name()));
      out.add(library);
    }
    out.add(
        library(
            ContentPackage.FHIR_HELPERS,
            "4.0.1",
            fhirHelpers(),
            elm(compilation, ContentPackage.FHIR_HELPERS),
            "FHIRHelpers 4.0.1 (HL7), included so that every library this package holds resolves inside it."));
    return out;
  }

  /**
   * Absolute links under the public handout base: the rule's page as the action's first
   * documentation (a CDS Hooks bridge makes it the card's {@code source}: label = its display, the
   * publisher), and every page link of the content ({@code /handouts/…}) made absolute.
   *
   * <p>HAPI FHIR's bridge takes a card's links from the PlanDefinition's {@code relatedArtifact}
   * (label = {@code display}), not from the action: so an action's page link that shows on every
   * card (no {@code shown-when}) is listed there too, first, and every related artifact gets its
   * label as {@code display} (CDS Hooks requires a link's label). This service reads the action's
   * documentation and the citations, as before.
   */
  static void links(PlanDefinition plan, String ruleId, String pageBase) {
    var action = plan.getActionFirstRep();
    absolute(action, pageBase);
    List<RelatedArtifact> everyCard = new ArrayList<>();
    for (RelatedArtifact doc : action.getDocumentation()) {
      if (doc.hasUrl() && doc.getExtensionByUrl(RuleDefinition.SHOWN_WHEN) == null) {
        everyCard.add(doc.copy());
      }
    }
    plan.getRelatedArtifact().addAll(0, everyCard);
    plan.getRelatedArtifact().stream()
        .filter(a -> a.hasLabel() && !a.hasDisplay())
        .forEach(a -> a.setDisplay(a.getLabel()));
    action
        .getDocumentation()
        .add(
            0,
            new RelatedArtifact()
                .setType(RelatedArtifact.RelatedArtifactType.DOCUMENTATION)
                .setLabel("Rule page")
                .setDisplay(plan.getPublisher())
                .setUrl(pageBase + ContentPackage.RULE_PAGES + ruleId));
  }

  private static void absolute(PlanDefinition.PlanDefinitionActionComponent action, String base) {
    for (RelatedArtifact doc : action.getDocumentation()) {
      if (doc.hasUrl() && doc.getUrl().startsWith("/")) {
        doc.setUrl(base + doc.getUrl());
      }
    }
    action.getAction().forEach(child -> absolute(child, base));
  }

  private static String elm(CqlCompilation compilation, String name) {
    return compilation.libraryManager().getCompiledLibraries().entrySet().stream()
        .filter(e -> name.equals(e.getKey().getId()))
        .map(e -> CqlCompilation.elmJson(e.getValue()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no translation of library " + name));
  }

  /**
   * Every ValueSet carries the complete expansion the terminology build wrote
   * (terminology/README.md): {@code total} equal to the codes listed, none cut short.
   */
  static void requireExpansion(ValueSet vs) {
    var expansion = vs.getExpansion();
    if (!vs.hasExpansion()
        || expansion.getContains().isEmpty()
        || expansion.getTotal() != expansion.getContains().size()
        || expansion.hasExtension(TOO_COSTLY)) {
      throw new IllegalStateException(
          vs.getUrl()
              + ": no complete expansion (total = codes listed); run the terminology build");
    }
  }

  static Library library(String name, String version, String cql, String elm, String description) {
    Library library = new Library();
    library.setId(name);
    library.setUrl(ContentPackage.CANONICAL_BASE + "/Library/" + name);
    library.setVersion(version);
    library.setName(name);
    library.setTitle(name);
    library.setStatus(PublicationStatus.ACTIVE);
    library.setExperimental(false);
    library.setDate(new Date(0));
    library.setDescription(description);
    library.setType(
        new CodeableConcept(
            new Coding(
                "http://terminology.hl7.org/CodeSystem/library-type",
                "logic-library",
                "Logic Library")));
    Matcher includes = INCLUDE.matcher(cql);
    while (includes.find()) {
      library
          .addRelatedArtifact()
          .setType(RelatedArtifact.RelatedArtifactType.DEPENDSON)
          .setResource(
              ContentPackage.CANONICAL_BASE
                  + "/Library/"
                  + includes.group(1)
                  + "|"
                  + includes.group(2));
    }
    library
        .addContent()
        .setContentType(ContentPackage.CQL)
        .setData(cql.getBytes(StandardCharsets.UTF_8));
    library
        .addContent()
        .setContentType(ContentPackage.ELM_JSON)
        .setData(elm.getBytes(StandardCharsets.UTF_8));
    return library;
  }

  private static String description(String cql) {
    Matcher m = Pattern.compile("\\A\\s*/\\*(.*?)\\*/", Pattern.DOTALL).matcher(cql);
    if (!m.find()) {
      return "CQL library";
    }
    String text = m.group(1).replaceAll("(?m)^\\s*\\*\\s?", "").strip();
    int blank = text.indexOf("\n\n");
    return (blank > 0 ? text.substring(0, blank) : text).replaceAll("\\s+", " ");
  }

  private static String fhirHelpers() throws IOException {
    try (InputStream in =
        PackageBuilder.class
            .getClassLoader()
            .getResourceAsStream("org/hl7/fhir/FHIRHelpers-4.0.1.cql")) {
      if (in == null) {
        throw new IllegalStateException("FHIRHelpers-4.0.1.cql not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Gives an extension definition its snapshot: the core Extension snapshot with the differential's
   * constraints (cardinality, fixed url, value type, texts) applied.
   */
  static void snapshot(org.hl7.fhir.r4.model.StructureDefinition sd) {
    var base =
        (org.hl7.fhir.r4.model.StructureDefinition)
            new ca.uhn.fhir.context.support.DefaultProfileValidationSupport(
                    FhirContext.forR4Cached())
                .fetchStructureDefinition("http://hl7.org/fhir/StructureDefinition/Extension");
    if (base == null) {
      throw new IllegalStateException("the core Extension definition is not on the class path");
    }
    for (var element : base.getSnapshot().getElement()) {
      var copy = element.copy();
      for (var diff : sd.getDifferential().getElement()) {
        if (!diff.getPath().equals(copy.getPath())) {
          continue;
        }
        if (diff.hasShort()) copy.setShort(diff.getShort());
        if (diff.hasDefinition()) copy.setDefinition(diff.getDefinition());
        if (diff.hasMin()) copy.setMin(diff.getMin());
        if (diff.hasMax()) copy.setMax(diff.getMax());
        if (diff.hasFixed()) copy.setFixed(diff.getFixed().copy());
        if (diff.hasType()) {
          copy.getType().clear();
          diff.getType().forEach(t -> copy.addType(t.copy()));
        }
      }
      sd.getSnapshot().addElement(copy);
    }
  }
}
