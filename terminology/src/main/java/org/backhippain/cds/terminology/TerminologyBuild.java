package org.backhippain.cds.terminology;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.ConceptMap;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Enumerations.PublicationStatus;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.UriType;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.r4.model.ValueSet.ConceptSetComponent;

/**
 * The terminology build: reads the sources ({@code terminology/sources}) and the project's
 * definitions ({@code terminology/definitions}), and writes the content's ValueSets (compose with
 * one filter per include, complete expansion by HAPI, code-system versions, provenance per
 * include), the product ConceptMap and the terminology report the rule book shows. Usage: {@code
 * TerminologyBuild <repository root>}; see terminology/README.md.
 *
 * <p>It is a pure function of its inputs except for the expansion timestamp, which is kept from the
 * file already written when the expansion's codes did not change: running it twice writes the same
 * bytes, and {@code TerminologyBuildTests} holds the committed files to it.
 */
public final class TerminologyBuild {
  static final String BASE = "https://back-hip-pain-cds.org/fhir";
  static final String INCLUDE_SOURCE = BASE + "/StructureDefinition/include-source";
  static final String VERIFY = BASE + "/StructureDefinition/verify";
  static final String VERSION = "0.1.0";
  static final String PUBLISHER = "Back & Hip Pain CDS";
  static final String VALUESETS = "content/input/vocabulary/valueset";
  static final String CONCEPTMAP =
      "content/input/vocabulary/conceptmap/ConceptMap-rxnorm-product-ingredient.json";
  static final String REPORT = "content/input/review/terminology-report.json";
  static final String DOSE_FORM_CLASS = BASE + "/CodeSystem/dose-form-class";

  private final Path root;
  private final FhirContext fhir = FhirContext.forR4Cached();
  private final ObjectMapper json = new ObjectMapper();
  final Sources sources;
  final Icd10cm icd;
  final MedicationClasses medications;
  private final JsonNode definitions;
  private final Instant now;
  private final Map<String, ValueSet> built = new LinkedHashMap<>();
  private final Expander expander;
  private final ArrayNode reportedConditions = json.createArrayNode();
  private final ArrayNode displayCorrections = json.createArrayNode();

  TerminologyBuild(Path root, Instant now) {
    this.root = root;
    this.now = now;
    Path dir = root.resolve("terminology");
    this.sources = Sources.load(dir.resolve("sources"));
    try {
      this.definitions = json.readTree(dir.resolve("definitions/value-sets.json").toFile());
      this.medications =
          new MedicationClasses(
              json.readTree(dir.resolve("definitions/medication-classes.json").toFile()), sources);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonNode table = definitions.path("icd10cm");
    this.icd =
        Icd10cm.load(
            dir.resolve("sources").resolve(table.path("table").asText()),
            table.path("version").asText());
    this.expander = new Expander(fhir, icd.codeSystem());
  }

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
    long start = System.nanoTime();
    TerminologyBuild build = new TerminologyBuild(root, Instant.now());
    Map<String, String> before = build.currentFiles();
    Map<String, String> files = build.files();
    for (var f : files.entrySet()) {
      Path path = root.resolve(f.getKey());
      Files.createDirectories(path.getParent());
      Files.writeString(path, f.getValue(), StandardCharsets.UTF_8);
    }
    for (String old : before.keySet()) {
      if (!files.containsKey(old) && old.startsWith(VALUESETS)) {
        Files.delete(root.resolve(old));
      }
    }
    System.out.print(build.diff(before, files));
    System.out.printf(
        "Terminology build: %d value sets, %d products in the ConceptMap, in %d ms%n",
        build.built.size(), build.conceptMapProducts(), (System.nanoTime() - start) / 1_000_000);
  }

  /** The content files as the build writes them: path below the repository root → text. */
  Map<String, String> files() {
    IParser parser = fhir.newJsonParser().setPrettyPrint(true);
    Map<String, String> out = new TreeMap<>();
    for (JsonNode def : inDependencyOrder()) {
      ValueSet vs = valueSet(def);
      built.put(vs.getUrl(), vs);
      out.put(
          VALUESETS + "/ValueSet-" + vs.getId() + ".json",
          parser.encodeResourceToString(vs) + "\n");
    }
    out.put(CONCEPTMAP, parser.encodeResourceToString(conceptMap()) + "\n");
    try {
      out.put(REPORT, json.writerWithDefaultPrettyPrinter().writeValueAsString(report()) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** The definitions, each after the value sets it includes. */
  private List<JsonNode> inDependencyOrder() {
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    definitions.path("valueSets").forEach(d -> byId.put(d.path("id").asText(), d));
    List<JsonNode> out = new ArrayList<>();
    Set<String> done = new HashSet<>();
    for (String id : byId.keySet()) {
      visit(id, byId, done, new HashSet<>(), out);
    }
    return out;
  }

  private static void visit(
      String id,
      Map<String, JsonNode> byId,
      Set<String> done,
      Set<String> path,
      List<JsonNode> out) {
    if (done.contains(id)) {
      return;
    }
    JsonNode def = byId.get(id);
    if (def == null) {
      throw new IllegalStateException("value set " + id + " is included but not defined");
    }
    if (!path.add(id)) {
      throw new IllegalStateException("value set " + id + " includes itself");
    }
    for (JsonNode inc : def.path("include")) {
      if (inc.has("valueSet")) {
        visit(inc.path("valueSet").asText(), byId, done, path, out);
      }
    }
    done.add(id);
    out.add(def);
  }

  Map<String, ValueSet> valueSets() {
    return built;
  }

  /** The files the build owns as they are now in the repository. */
  Map<String, String> currentFiles() throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (var list = Files.list(root.resolve(VALUESETS))) {
      for (Path p : list.sorted().toList()) {
        out.put(VALUESETS + "/" + p.getFileName(), Files.readString(p));
      }
    }
    for (String f : List.of(CONCEPTMAP, REPORT)) {
      if (Files.exists(root.resolve(f))) {
        out.put(f, Files.readString(root.resolve(f)));
      }
    }
    return out;
  }

  // ---- value sets --------------------------------------------------------------------------

  private ValueSet valueSet(JsonNode def) {
    String id = def.path("id").asText();
    ValueSet vs = new ValueSet();
    vs.setId(id);
    vs.setUrl(url(id));
    vs.setVersion(VERSION);
    vs.setName(def.path("name").asText());
    vs.setTitle(def.path("title").asText());
    vs.setStatus(PublicationStatus.ACTIVE);
    vs.setExperimental(false);
    vs.setPublisher(PUBLISHER);
    vs.setDescription(def.path("description").asText());
    Map<String, Sources.Code> sourced = new HashMap<>();
    Set<String> listed = new HashSet<>();
    Map<String, JsonNode> patternsOf = new HashMap<>();
    for (JsonNode inc : def.path("include")) {
      if (inc.has("valueSet")) {
        String nested = url(inc.path("valueSet").asText());
        if (!built.containsKey(nested)) {
          throw new IllegalStateException(
              vs.getUrl() + " includes " + nested + " before it is built");
        }
        vs.getCompose().addInclude().addValueSet(nested);
      } else if (inc.has("medicationClass")) {
        medicationIncludes(vs, inc.path("medicationClass").asText(), sourced, listed);
      } else if (inc.has("source")) {
        sourceInclude(vs, inc, sourced, listed, patternsOf);
      } else {
        curated(vs.getCompose().getInclude(), vs.getCompose(), inc, listed, false);
      }
    }
    for (JsonNode exc : def.path("exclude")) {
      curated(vs.getCompose().getExclude(), vs.getCompose(), exc, new HashSet<>(), true);
    }
    ValueSet expanded = expander.expand(vs, built.values());
    expansion(vs, expanded, sourced);
    for (JsonNode key : def.path("reportSources")) {
      reportOutside(vs, sources.get(key.asText()));
    }
    return vs;
  }

  private static String key(String system, String code) {
    return system + "|" + (Icd10cm.SYSTEM.equals(system) ? Icd10cm.undotted(code) : code);
  }

  private static String url(String id) {
    return BASE + "/ValueSet/" + id;
  }

  private void curated(
      List<ConceptSetComponent> sets,
      ValueSet.ValueSetComposeComponent compose,
      JsonNode inc,
      Set<String> listed,
      boolean exclude) {
    String system = inc.path("system").asText();
    String reason = inc.path("reason").asText();
    List<String> roots = new ArrayList<>();
    inc.path("isA").forEach(r -> roots.add(r.asText()));
    if (inc.has("isACategories")) {
      roots.addAll(categories(inc.path("isACategories")));
    }
    for (String root : roots) {
      if (icd.find(root) == null) {
        throw new IllegalStateException(
            "ICD-10-CM " + root + " is not in the table (" + reason + ")");
      }
      ConceptSetComponent set = new ConceptSetComponent().setSystem(Icd10cm.SYSTEM);
      set.addFilter().setProperty("concept").setOp(ValueSet.FilterOperator.ISA).setValue(root);
      provenance(set, reason);
      if (inc.has("verify")) {
        set.addExtension(VERIFY, new StringType(inc.path("verify").asText()));
      }
      sets.add(set);
    }
    if (!inc.has("concepts")) {
      return;
    }
    ConceptSetComponent set = new ConceptSetComponent().setSystem(system);
    provenance(set, reason);
    for (JsonNode c : inc.path("concepts")) {
      String code = c.path("code").asText();
      String display = c.path("display").asText(null);
      if (Icd10cm.SYSTEM.equals(system)) {
        Icd10cm.Code row = icd.find(code);
        if (row == null) {
          throw new IllegalStateException(
              "ICD-10-CM " + code + " is not in the table (" + reason + ")");
        }
        code = row.code();
        display = row.display();
      } else if (Sources.SNOMED.equals(system)) {
        String sourced = sourcedDisplay(system, code);
        if (sourced != null && !withoutTag(sourced).equalsIgnoreCase(display)) {
          ObjectNode fix = displayCorrections.addObject();
          fix.put("system", system)
              .put("code", code)
              .put("curated", display)
              .put("source", sourced);
          display = sourced;
        }
      }
      if (!listed.add(key(system, code)) && !exclude) {
        throw new IllegalStateException(
            "code listed twice in one value set: " + system + "|" + code);
      }
      var concept = set.addConcept().setCode(code).setDisplay(display);
      if (c.has("verify")) {
        concept.addExtension(VERIFY, new StringType(c.path("verify").asText()));
      }
    }
    sets.add(set);
  }

  /** A SNOMED CT name without its semantic tag: "Osteoporosis (disorder)" → "Osteoporosis". */
  static String withoutTag(String display) {
    return display.replaceFirst("\\s*\\([a-z /-]+\\)$", "");
  }

  /** The display a source gives a code (first source in key order), or null. */
  private String sourcedDisplay(String system, String code) {
    for (Sources.Source s : sources.all()) {
      for (Sources.Code c : s.codes()) {
        if (c.system().equals(system) && c.code().equals(code) && c.display() != null) {
          return c.display();
        }
      }
    }
    return null;
  }

  private List<String> categories(JsonNode range) {
    String from = range.path("from").asText();
    String to = range.path("to").asText();
    Set<String> except = new TreeSet<>();
    range.path("except").forEach(e -> except.add(e.asText()));
    List<String> out = new ArrayList<>();
    for (Icd10cm.Code c : icd.codes()) {
      String code = c.code();
      if (code.length() == 3
          && code.charAt(0) == from.charAt(0)
          && code.compareTo(from) >= 0
          && code.compareTo(to) <= 0
          && !except.contains(code)) {
        out.add(code);
      }
    }
    return out;
  }

  private void sourceInclude(
      ValueSet vs,
      JsonNode inc,
      Map<String, Sources.Code> sourced,
      Set<String> listed,
      Map<String, JsonNode> patternsOf) {
    Sources.Source source = sources.get(inc.path("source").asText());
    String system = inc.path("system").asText();
    JsonNode exclude = inc.path("excludeDisplay");
    if (exclude.isTextual() && exclude.asText().startsWith("same-as-")) {
      exclude = patternsOf.get(exclude.asText().substring("same-as-".length()));
    }
    patternsOf.put(source.key(), exclude);
    Pattern include =
        inc.has("includeDisplay") ? Pattern.compile(inc.path("includeDisplay").asText()) : null;
    ConceptSetComponent set = new ConceptSetComponent().setSystem(system);
    provenance(set, source.provenance());
    Map<String, List<Sources.Code>> left = new LinkedHashMap<>();
    for (Sources.Code c : source.codes()) {
      if (!c.system().equals(system) || listed.contains(key(system, c.code()))) {
        continue;
      }
      String display = c.display() == null ? "" : c.display();
      if (include != null && !include.matcher(display).find()) {
        continue;
      }
      String reason = null;
      for (JsonNode p : exclude) {
        if (Pattern.compile(p.path("pattern").asText()).matcher(display).find()) {
          reason = p.path("reason").asText();
          break;
        }
      }
      if (reason != null) {
        left.computeIfAbsent(reason, k -> new ArrayList<>()).add(c);
        continue;
      }
      listed.add(key(system, c.code()));
      set.addConcept().setCode(c.code());
      sourced.put(key(system, c.code()), c);
    }
    left.forEach((reason, codes) -> reportCodes(vs, source, reason, codes));
    if (!set.getConcept().isEmpty()) {
      vs.getCompose().addInclude(set);
    }
  }

  private void medicationIncludes(
      ValueSet vs, String classId, Map<String, Sources.Code> sourced, Set<String> listed) {
    MedicationClasses.MedicationClass c = medications.get(classId);
    if (!c.ingredientCodes().isEmpty()) {
      ConceptSetComponent ingredients = new ConceptSetComponent().setSystem(Sources.RXNORM);
      provenance(
          ingredients,
          "Clinical spec §6h: the ingredient codes, for EHRs that code the ingredient rather than"
              + " the product");
      c.ingredientCodes()
          .forEach(
              (name, code) -> {
                listed.add(key(Sources.RXNORM, code));
                ingredients.addConcept().setCode(code).setDisplay(name);
              });
      vs.getCompose().addInclude(ingredients);
    }
    for (String key : medications.sourceOrder()) {
      ConceptSetComponent set = new ConceptSetComponent().setSystem(Sources.RXNORM);
      provenance(set, sources.get(key).provenance());
      for (MedicationClasses.Product p : c.products()) {
        if (p.sources().get(0).equals(key) && listed.add(key(Sources.RXNORM, p.code()))) {
          set.addConcept().setCode(p.code());
          sourced.put(
              key(Sources.RXNORM, p.code()),
              new Sources.Code(Sources.RXNORM, p.code(), p.display(), p.version()));
        }
      }
      if (!set.getConcept().isEmpty()) {
        vs.getCompose().addInclude(set);
      }
    }
  }

  private static void provenance(ConceptSetComponent set, String text) {
    set.addExtension(INCLUDE_SOURCE, new StringType(text));
  }

  /**
   * Completes {@code vs} with HAPI's expansion: header codes of ICD-10-CM marked abstract, the
   * display and version of each imported code as its source gives them (the compose lists imported
   * codes without display, to keep the file small), one {@code used-codesystem} parameter per
   * system and version, total = the codes listed. The timestamp is kept from the file already
   * written when the codes are the same.
   */
  private void expansion(ValueSet vs, ValueSet expanded, Map<String, Sources.Code> sourced) {
    List<ValueSet.ValueSetExpansionContainsComponent> contains = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (var c : expanded.getExpansion().getContains()) {
      if (!seen.add(key(c.getSystem(), c.getCode()))) {
        throw new IllegalStateException(vs.getUrl() + ": HAPI expanded " + c.getCode() + " twice");
      }
      var copy =
          new ValueSet.ValueSetExpansionContainsComponent()
              .setSystem(c.getSystem())
              .setCode(c.getCode())
              .setDisplay(c.getDisplay());
      if (Icd10cm.SYSTEM.equals(c.getSystem())) {
        Icd10cm.Code row = icd.find(c.getCode());
        copy.setVersion(icd.version());
        if (row != null && !row.billable()) {
          copy.setAbstract(true);
        }
      } else if (sourced.containsKey(key(c.getSystem(), c.getCode()))) {
        Sources.Code source = sourced.get(key(c.getSystem(), c.getCode()));
        copy.setDisplay(source.display()).setVersion(source.version());
      }
      contains.add(copy);
    }
    if (contains.isEmpty()) {
      throw new IllegalStateException(vs.getUrl() + ": empty expansion");
    }
    contains.sort(
        Comparator.comparing(ValueSet.ValueSetExpansionContainsComponent::getSystem)
            .thenComparing(ValueSet.ValueSetExpansionContainsComponent::getCode));
    ValueSet.ValueSetExpansionComponent expansion = new ValueSet.ValueSetExpansionComponent();
    StringBuilder codes = new StringBuilder(vs.getUrl());
    contains.forEach(c -> codes.append('\n').append(c.getSystem()).append('|').append(c.getCode()));
    expansion.setIdentifier(
        "urn:uuid:" + UUID.nameUUIDFromBytes(codes.toString().getBytes(StandardCharsets.UTF_8)));
    Date timestamp = previousTimestamp(vs, expansion.getIdentifier());
    expansion.setTimestamp(timestamp);
    expansion.setTotal(contains.size());
    expansion.setOffset(0);
    Set<String> used = new TreeSet<>();
    for (var c : contains) {
      used.add(c.getSystem() + (c.hasVersion() ? "|" + c.getVersion() : ""));
    }
    used.forEach(u -> expansion.addParameter().setName("used-codesystem").setValue(new UriType(u)));
    contains.forEach(expansion::addContains);
    vs.setExpansion(expansion);
    vs.setDate(timestamp);
  }

  /**
   * The timestamp of the expansion already written, when its identifier (its codes) is the same.
   */
  private Date previousTimestamp(ValueSet vs, String identifier) {
    Path file = root.resolve(VALUESETS).resolve("ValueSet-" + vs.getId() + ".json");
    if (Files.exists(file)) {
      try {
        ValueSet old = fhir.newJsonParser().parseResource(ValueSet.class, Files.readString(file));
        if (identifier.equals(old.getExpansion().getIdentifier())
            && old.getExpansion().hasTimestamp()) {
          return old.getExpansion().getTimestamp();
        }
      } catch (IOException | RuntimeException e) {
        // an unreadable or older file: a new timestamp
      }
    }
    return Date.from(now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
  }

  // ---- report ------------------------------------------------------------------------------

  /** Codes of a source that the value set does not hold (e.g. C44, D37-D49 for cancer). */
  private void reportOutside(ValueSet vs, Sources.Source source) {
    Set<String> in = new HashSet<>();
    vs.getExpansion().getContains().forEach(c -> in.add(key(c.getSystem(), c.getCode())));
    Map<String, List<Sources.Code>> byReason = new LinkedHashMap<>();
    for (Sources.Code c : source.codes()) {
      if (in.contains(key(c.system(), c.code()))) {
        continue;
      }
      String reason;
      if (Icd10cm.SYSTEM.equals(c.system())) {
        reason =
            icd.find(c.code()) == null
                ? "not an ICD-10-CM FY" + icd.version() + " code (retired or never valid)"
                : "outside the clinical spec definition: "
                    + Icd10cm.undotted(c.code()).substring(0, 3);
      } else if (Sources.SNOMED.equals(c.system())) {
        continue; // SNOMED codes a filter left out are reported by the import itself
      } else {
        reason = "outside the clinical spec definition";
      }
      byReason.computeIfAbsent(reason, k -> new ArrayList<>()).add(c);
    }
    byReason.forEach((reason, codes) -> reportCodes(vs, source, reason, codes, 10));
  }

  private void reportCodes(
      ValueSet vs, Sources.Source source, String reason, List<Sources.Code> codes) {
    reportCodes(vs, source, reason, codes, Integer.MAX_VALUE);
  }

  /** {@code listed}: how many codes to name (all for filtered SNOMED codes; examples otherwise). */
  private void reportCodes(
      ValueSet vs, Sources.Source source, String reason, List<Sources.Code> codes, int listed) {
    ObjectNode r = reportedConditions.addObject();
    r.put("valueSet", vs.getId());
    r.put("source", source.key());
    r.put("reason", reason);
    r.put("system", codes.get(0).system());
    r.put("count", codes.size());
    ArrayNode list = r.putArray("codes");
    boolean cpt = "http://www.ama-assn.org/go/cpt".equals(codes.get(0).system());
    codes.stream()
        .sorted(Comparator.comparing(Sources.Code::code))
        .limit(listed)
        .forEach(c -> list.add(c.code() + (cpt || c.display() == null ? "" : " " + c.display())));
  }

  private ObjectNode report() {
    ObjectNode r = json.createObjectNode();
    r.put(
        "description",
        "Written by the terminology build (terminology/README.md). What the sources hold that the"
            + " clinical spec does not: reported for the informaticist, not included.");
    ObjectNode table = r.putObject("icd10cm");
    table.put("version", icd.version());
    table.put("codes", icd.size());
    ArrayNode sets = r.putArray("valueSets");
    for (ValueSet vs : built.values()) {
      ObjectNode s = sets.addObject();
      s.put("id", vs.getId());
      s.put("total", vs.getExpansion().getTotal());
      ObjectNode bySystem = s.putObject("codesBySystem");
      Map<String, Integer> counts = new TreeMap<>();
      vs.getExpansion().getContains().forEach(c -> counts.merge(c.getSystem(), 1, Integer::sum));
      counts.forEach(bySystem::put);
    }
    ArrayNode meds = r.putArray("medications");
    Map<String, List<MedicationClasses.Reported>> groups = new LinkedHashMap<>();
    for (MedicationClasses.Reported rep : medications.reported()) {
      groups
          .computeIfAbsent(
              rep.classId() + "\t" + rep.ingredient() + "\t" + rep.reason(), k -> new ArrayList<>())
          .add(rep);
    }
    groups.forEach(
        (k, reps) -> {
          String[] f = k.split("\t");
          ObjectNode g = meds.addObject();
          g.put("class", f[0])
              .put("ingredient", f[1])
              .put("reason", f[2])
              .put("count", reps.size());
          ArrayNode products = g.putArray("products");
          reps.stream()
              .map(MedicationClasses.Reported::product)
              .sorted(Comparator.comparing(MedicationClasses.Product::display))
              .forEach(
                  p ->
                      products.add(
                          p.code()
                              + " "
                              + p.display()
                              + " ["
                              + String.join(" ", p.sources())
                              + "]"));
        });
    r.set("conditions", reportedConditions);
    ObjectNode notProducts = r.putObject("notProducts");
    medications.unparsed().forEach((k, v) -> notProducts.put(k, v.size()));
    r.set("displayCorrections", displayCorrections);
    ArrayNode gaps = r.putArray("gaps");
    gaps(gaps);
    return r;
  }

  /**
   * Forms an ingredient is on the market in (definitions: expectedForms) that no source lists a
   * product of: such orders match only when coded with the ingredient.
   */
  private void gaps(ArrayNode gaps) {
    JsonNode expected = medications.expectedForms();
    for (MedicationClasses.MedicationClass c : medications.classes()) {
      expected
          .path(c.id())
          .fields()
          .forEachRemaining(
              e -> {
                for (JsonNode form : e.getValue()) {
                  boolean found =
                      c.products().stream()
                          .anyMatch(
                              p ->
                                  p.ingredients().contains(e.getKey())
                                      && form.asText().equals(p.doseFormClass()));
                  if (!found) {
                    String code = c.ingredientCodes().get(e.getKey());
                    gaps.addObject()
                        .put("class", c.id())
                        .put("ingredient", e.getKey())
                        .put("code", code)
                        .put("form", form.asText())
                        .put(
                            "effect",
                            "no source lists a "
                                + form.asText()
                                + " "
                                + e.getKey()
                                + " product: such orders match only when coded with the ingredient"
                                + " ("
                                + code
                                + ")");
                  }
                }
              });
    }
  }

  // ---- product ConceptMap ------------------------------------------------------------------

  private int conceptMapProducts;

  int conceptMapProducts() {
    return conceptMapProducts;
  }

  private ConceptMap conceptMap() {
    ConceptMap map = new ConceptMap();
    map.setId("rxnorm-product-ingredient");
    map.setUrl(BASE + "/ConceptMap/rxnorm-product-ingredient");
    map.setVersion(VERSION);
    map.setName("RxnormProductIngredient");
    map.setTitle("RxNorm product to ingredient and dose-form class");
    map.setStatus(PublicationStatus.ACTIVE);
    map.setExperimental(false);
    map.setPublisher(PUBLISHER);
    map.setDescription(
        "Every product of the medication classes (corticosteroids, opioids, NSAIDs, acetaminophen)"
            + " with its clinical spec §6h ingredients (group 1) and its dose-form class (group 2)."
            + " Derivation: a parse of the product's RxNorm name (terminology/README.md), no hand-typed"
            + " row. Each mapping's comment names the sources that list the product"
            + " (terminology/sources) and the ingredients the spec does not list.");
    Map<String, MedicationClasses.Product> all =
        new TreeMap<>(Comparator.comparingLong(Long::parseLong));
    for (MedicationClasses.MedicationClass c : medications.classes()) {
      c.products().forEach(p -> all.put(p.code(), p));
    }
    var ingredients = map.addGroup().setSource(Sources.RXNORM).setTarget(Sources.RXNORM);
    var forms = map.addGroup().setSource(Sources.RXNORM).setTarget(DOSE_FORM_CLASS);
    for (MedicationClasses.Product p : all.values()) {
      if (p.doseForm() == null) {
        continue; // an ingredient-level code (IN, MIN): no product row
      }
      var element = ingredients.addElement().setCode(p.code()).setDisplay(p.display());
      List<String> others = new ArrayList<>();
      for (String i : p.ingredients()) {
        String code = medications.ingredientCode(i);
        if (code == null) {
          others.add(i);
        } else {
          element
              .addTarget()
              .setCode(code)
              .setDisplay(i)
              .setEquivalence(Enumerations.ConceptMapEquivalence.WIDER);
        }
      }
      String comment =
          "sources: "
              + String.join(" ", p.sources())
              + (others.isEmpty() ? "" : "; other ingredients: " + String.join(", ", others));
      element.getTarget().forEach(t -> t.setComment(comment));
      forms
          .addElement()
          .setCode(p.code())
          .setDisplay(p.display())
          .addTarget()
          .setCode(p.doseFormClass())
          .setEquivalence(Enumerations.ConceptMapEquivalence.WIDER)
          .setComment("dose form: " + p.doseForm());
    }
    conceptMapProducts = forms.getElement().size();
    return map;
  }

  // ---- diff ----------------------------------------------------------------------------------

  /** Per value set: codes before → after, and the codes added and removed. */
  String diff(Map<String, String> before, Map<String, String> after) {
    StringBuilder out = new StringBuilder();
    IParser parser = fhir.newJsonParser();
    Set<String> paths = new TreeSet<>(before.keySet());
    paths.addAll(after.keySet());
    for (String path : paths) {
      if (!path.startsWith(VALUESETS)) {
        continue;
      }
      Set<String> was = codes(parser, before.get(path));
      Set<String> is = codes(parser, after.get(path));
      Set<String> added = new TreeSet<>(is);
      added.removeAll(was);
      Set<String> removed = new TreeSet<>(was);
      removed.removeAll(is);
      out.append(
          String.format(
              "%-45s %6d -> %6d",
              path.substring(path.lastIndexOf('/') + 1), was.size(), is.size()));
      if (!added.isEmpty() || !removed.isEmpty()) {
        out.append(String.format("  (+%d -%d)", added.size(), removed.size()));
      }
      out.append('\n');
      added.stream().limit(20).forEach(c -> out.append("    + ").append(c).append('\n'));
      removed.stream().limit(20).forEach(c -> out.append("    - ").append(c).append('\n'));
      if (added.size() > 20 || removed.size() > 20) {
        out.append("    ...\n");
      }
    }
    return out.toString();
  }

  private static Set<String> codes(IParser parser, String text) {
    Set<String> out = new LinkedHashSet<>();
    if (text != null) {
      ValueSet vs = parser.parseResource(ValueSet.class, text);
      vs.getExpansion().getContains().forEach(c -> out.add(c.getSystem() + "|" + c.getCode()));
    }
    return new TreeSet<>(out);
  }
}
