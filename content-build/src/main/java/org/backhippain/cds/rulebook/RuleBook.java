package org.backhippain.cds.rulebook;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.Template;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.PrefetchKeys;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.hl7.fhir.r4.model.DataRequirement;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * The rule book informaticists review: an index, one page per rule (plain words, When/Then, card
 * preview, thresholds with sources, value sets, data the EHR must send, CQL, cases with expected
 * and actual rule ids), a page of every cited source and the terminology page. Built from a model
 * of the compiled content — the ELM ({@link ElmModel}: header tags, the parameters and value sets a
 * rule uses), the Libraries' data requirements, the PlanDefinitions, the value-set expansions — and
 * the cases as the engine evaluated them, rendered through the package's templates ({@code
 * review/*.mustache}, HTML-escaped).
 */
public final class RuleBook {
  static final String VERIFY = ContentPackage.CANONICAL_BASE + "/StructureDefinition/verify";
  static final String INCLUDE_SOURCE =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/include-source";
  static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";

  /** Content templates: the page frame, the pages, a value set on a rule page. */
  static final String PAGE = "review/page.mustache";

  static final String INDEX = "review/index.mustache";
  static final String RULE = "review/rule.mustache";
  static final String SOURCES = "review/sources.mustache";
  static final String VALUE_SET = "review/value-set.mustache";
  static final String TERMINOLOGY = "review/terminology.mustache";
  static final String REPORT = "review/terminology-report.json";

  /** The date rules every rule page states (content, paraphrasing the clinical spec §4). */
  static final String DATES = "review/dates-and-windows.md";

  /** Shared libraries a rule's logic reaches into; thresholds live in {@link #CONFIG}. */
  static final String COMMON = "Common";

  static final String CONFIG = "Config";

  /** Every rule page lists the episode classes (every rule reads the episode). */
  static final List<String> EPISODE = List.of("Subacute From Days", "Chronic From Days");

  private final ContentPackage content;
  private final RuleEngine engine;
  private final Function<RuleResult, Map<String, Object>> cards;
  private final ElmModel elm;
  private final PrefetchKeys prefetch;
  private final Parser markdown = Parser.builder().build();
  private final HtmlRenderer html = HtmlRenderer.builder().escapeHtml(true).build();
  private final Map<String, Template> templates = new HashMap<>();
  private final List<CaseRun> runs = new ArrayList<>();

  /**
   * @param cards a rule's card as the service answers it (CDS Hooks JSON as maps)
   */
  public RuleBook(
      ContentPackage content,
      RuleEngine engine,
      FhirContext fhir,
      Function<RuleResult, Map<String, Object>> cards) {
    this.content = content;
    this.engine = engine;
    this.cards = cards;
    this.elm = new ElmModel(content.elm());
    this.prefetch = PrefetchKeys.of(content);
    for (ContentCase c : ContentCase.all(content, fhir)) {
      runs.add(run(c));
    }
  }

  /**
   * One case as the build evaluated it; {@code missingText}: the texts the case expects of a card
   * that its card does not show.
   */
  public record CaseRun(
      ContentCase c, List<RuleResult> results, List<String> actual, List<String> missingText) {
    public boolean passes() {
      return new TreeSet<>(actual).equals(new TreeSet<>(c.expectedCards()))
          && missingText.isEmpty();
    }
  }

  private CaseRun run(ContentCase c) {
    var now = c.evaluationDate().atTime(12, 0).atZone(ZoneOffset.UTC);
    if (c.hook().startsWith("order-")
        && engine.relevantDrafts(c.hook(), c.patientId(), c.consideredDrafts(), now).isEmpty()) {
      return new CaseRun(c, List.of(), List.of(), List.of());
    }
    List<RuleResult> results =
        engine.evaluate(
            new EvaluationInput(c.record(), c.hook(), now, c.consideredDrafts(), c.allDrafts()));
    List<String> actual =
        results.stream().filter(RuleResult::applicable).map(r -> r.rule().ruleId()).toList();
    List<String> missing = new ArrayList<>();
    for (RuleResult result : results) {
      List<String> texts = c.expectedText().getOrDefault(result.rule().ruleId(), List.of());
      if (result.applicable() && !texts.isEmpty()) {
        Map<String, Object> card = cards.apply(result);
        String shown = card.get("summary") + "\n" + card.get("detail");
        texts.stream().filter(t -> !shown.contains(t)).forEach(missing::add);
      }
    }
    return new CaseRun(c, results, actual, missing);
  }

  public List<CaseRun> runs() {
    return runs;
  }

  /** File name → page. */
  public Map<String, String> pages() {
    Map<String, String> pages = new LinkedHashMap<>();
    pages.put("index.html", page("Rule book", INDEX, index()));
    pages.put("sources.html", page("Sources", SOURCES, sources()));
    pages.put("terminology.html", page("Terminology", TERMINOLOGY, terminology()));
    for (RuleDefinition rule : engine.catalog().rules()) {
      pages.put(rule.ruleId() + ".html", page(rule.planDefinition().getTitle(), RULE, rule(rule)));
    }
    return pages;
  }

  private String page(String title, String template, Map<String, Object> data) {
    Map<String, Object> frame = new LinkedHashMap<>();
    frame.put("title", title);
    frame.put("body", template(template).execute(data));
    return template(PAGE).execute(frame);
  }

  private Map<String, Object> index() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (RuleDefinition rule : engine.catalog().rules()) {
      List<CaseRun> cases = casesOf(rule);
      rows.add(
          Map.of(
              "ruleId", rule.ruleId(),
              "title", rule.planDefinition().getTitle(),
              "hooks", String.join(", ", rule.hooks()),
              "indicator", indicator(rule),
              "sources",
                  String.join("; ", citations(rule).stream().map(a -> a.getLabel()).toList()),
              "passing", cases.stream().filter(CaseRun::passes).count(),
              "cases", cases.size()));
    }
    return Map.of(
        "rules", rows,
        "passing", runs.stream().filter(CaseRun::passes).count(),
        "cases", runs.size());
  }

  private Map<String, Object> sources() {
    Map<String, Set<String>> usedBy = new LinkedHashMap<>();
    Map<String, RelatedArtifact> byCitation = new LinkedHashMap<>();
    for (RuleDefinition rule : engine.catalog().rules()) {
      for (RelatedArtifact a : citations(rule)) {
        byCitation.putIfAbsent(a.getCitation(), a);
        usedBy.computeIfAbsent(a.getCitation(), k -> new TreeSet<>()).add(rule.ruleId());
      }
    }
    List<Map<String, Object>> items = new ArrayList<>();
    byCitation.forEach(
        (citation, a) -> {
          Map<String, Object> item = new LinkedHashMap<>();
          item.put("label", a.getLabel());
          item.put("citation", citation);
          item.put("url", a.hasUrl() ? a.getUrl() : null);
          item.put("usedBy", List.copyOf(usedBy.get(citation)));
          items.add(item);
        });
    return Map.of("sources", items);
  }

  private Map<String, Object> rule(RuleDefinition rule) {
    Map<String, String> header = elm.headerTags(rule.libraryName());
    String plain = header.getOrDefault("plain", "");
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("ruleId", rule.ruleId());
    data.put("title", rule.planDefinition().getTitle());
    data.put("description", rule.planDefinition().getDescription());
    data.put("hooks", String.join(", ", rule.hooks()));
    data.put("indicator", indicator(rule));
    data.put("library", rule.libraryName());
    data.put(
        "plain",
        plain.isEmpty() ? plain : Character.toUpperCase(plain.charAt(0)) + plain.substring(1));
    data.put("when", header.getOrDefault("when", ""));
    data.put("then", header.getOrDefault("then", ""));
    data.put("card", cardPreview(rule));
    ElmModel.Uses uses = elm.uses(rule.libraryName(), Set.of(COMMON), CONFIG);
    data.put("thresholds", thresholds(uses));
    data.put("dates", content.file(DATES).map(md -> html.render(markdown.parse(md))).orElse(""));
    data.put("valueSets", valueSets(uses));
    data.putAll(dataRequirements(rule));
    data.put("citations", citations(rule).stream().map(RelatedArtifact::getCitation).toList());
    data.put("cases", cases(rule));
    data.put("cql", content.cql().get(rule.libraryName()).text());
    return data;
  }

  /** The rule's card as the service answers it, for the first positive case; null without one. */
  private Map<String, Object> cardPreview(RuleDefinition rule) {
    RuleResult example =
        casesOf(rule).stream()
            .flatMap(run -> run.results().stream())
            .filter(r -> r.applicable() && r.rule().ruleId().equals(rule.ruleId()))
            .findFirst()
            .orElse(null);
    if (example == null) {
      return null;
    }
    Map<String, Object> card = new LinkedHashMap<>(cards.apply(example));
    card.put("detailHtml", html.render(markdown.parse(String.valueOf(card.get("detail")))));
    card.put("badge", indicator(rule));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> reasons =
        card.get("overrideReasons") == null
            ? List.of()
            : (List<Map<String, Object>>) card.get("overrideReasons");
    card.put(
        "reasons",
        String.join(" · ", reasons.stream().map(r -> String.valueOf(r.get("display"))).toList()));
    return card;
  }

  /** The Config parameters the rule's logic uses (the episode's always), with their sources. */
  private List<Map<String, Object>> thresholds(ElmModel.Uses uses) {
    Map<String, ElmModel.Parameter> parameters = elm.parameters(CONFIG);
    Set<String> names = new LinkedHashSet<>(EPISODE);
    parameters.keySet().stream().filter(uses.parameters()::contains).forEach(names::add);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (String name : names) {
      ElmModel.Parameter p = parameters.get(name);
      if (p != null) {
        rows.add(
            Map.of(
                "name",
                name,
                "value",
                p.value() + " (" + p.type() + ")",
                "dates",
                datesCovered(p),
                "source",
                p.source()));
      }
    }
    return rows;
  }

  /**
   * The calendar dates a window parameter covers ("in the last N days": today − N to today, both
   * included); empty for a threshold that is not a window.
   */
  static String datesCovered(ElmModel.Parameter p) {
    boolean window =
        p.name().endsWith(" Window Days")
            || p.name().endsWith(" Look-back Days")
            || p.name().endsWith(" Recent Days");
    if (!window || !p.type().equals("Integer")) {
      return "";
    }
    int n = Integer.parseInt(p.value());
    return "today − " + n + " to today: " + (n + 1) + " calendar dates";
  }

  private List<String> valueSets(ElmModel.Uses uses) {
    List<String> out = new ArrayList<>();
    for (String url : uses.valueSets()) {
      content.valueSets().stream()
          .filter(v -> v.getUrl().equals(url))
          .findFirst()
          .ifPresent(vs -> out.add(template(VALUE_SET).execute(valueSetData(vs))));
    }
    return out;
  }

  /** One value set as the rule page shows it: size, date, versions, and a row per include. */
  private Map<String, Object> valueSetData(ValueSet vs) {
    Map<String, Object> data = summary(vs);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (String part : List.of("include", "exclude")) {
      var sets =
          part.equals("include") ? vs.getCompose().getInclude() : vs.getCompose().getExclude();
      for (ValueSet.ConceptSetComponent set : sets) {
        String source = text(set.getExtensionByUrl(INCLUDE_SOURCE));
        boolean excluded = part.equals("exclude");
        boolean verify = set.hasExtension(VERIFY);
        for (var nested : set.getValueSet()) {
          rows.add(row("", "all codes of value set " + nested.getValue(), "", excluded, false));
        }
        for (var filter : set.getFilter()) {
          rows.add(
              row(
                  set.getSystem(),
                  filter.getValue() + " and every code below it",
                  source,
                  excluded,
                  verify));
        }
        if (set.getConcept().size() > 12) {
          rows.add(
              row(set.getSystem(), set.getConcept().size() + " codes", source, excluded, verify));
        } else {
          for (var concept : set.getConcept()) {
            String display =
                concept.hasDisplay()
                    ? concept.getDisplay()
                    : displayOf(vs, set.getSystem(), concept.getCode());
            rows.add(
                row(
                    set.getSystem(),
                    concept.getCode() + (display == null ? "" : " " + display),
                    source,
                    excluded,
                    verify || concept.hasExtension(VERIFY)));
          }
        }
      }
    }
    data.put("rows", rows);
    return data;
  }

  private static Map<String, Object> row(
      String system, String codes, String source, boolean excluded, boolean verify) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("system", system);
    row.put("codes", codes);
    row.put("source", source);
    row.put("excluded", excluded);
    row.put("verify", verify);
    return row;
  }

  private static String displayOf(ValueSet vs, String system, String code) {
    return vs.getExpansion().getContains().stream()
        .filter(c -> code.equals(c.getCode()) && system.equals(c.getSystem()))
        .map(ValueSet.ValueSetExpansionContainsComponent::getDisplay)
        .findFirst()
        .orElse(null);
  }

  private static String text(org.hl7.fhir.r4.model.Extension e) {
    return e == null ? "" : e.getValue().primitiveValue();
  }

  /** Size, expansion date and code-system versions of a value set. */
  private static Map<String, Object> summary(ValueSet vs) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("id", vs.getIdElement().getIdPart());
    data.put("title", vs.getTitle());
    data.put("url", vs.getUrl());
    data.put("description", vs.getDescription());
    data.put("total", vs.getExpansion().getTotal());
    data.put(
        "expanded",
        vs.getExpansion().hasTimestamp()
            ? vs.getExpansion().getTimestampElement().getValueAsString().substring(0, 10)
            : "");
    data.put(
        "versions",
        vs.getExpansion().getParameter().stream()
            .filter(p -> p.getName().equals("used-codesystem"))
            .map(p -> p.getValue().primitiveValue())
            .toList());
    data.put(
        "sources",
        vs.getCompose().getInclude().stream()
            .map(
                i ->
                    i.hasValueSet()
                        ? "value set " + i.getValueSet().get(0).getValue()
                        : text(i.getExtensionByUrl(INCLUDE_SOURCE)))
            .distinct()
            .toList());
    return data;
  }

  /**
   * The terminology page: every value set with its sources, versions, date and size; what the
   * sources hold beyond the spec (the build's report); and a code search over every expansion.
   */
  private Map<String, Object> terminology() {
    Map<String, Object> data = new LinkedHashMap<>();
    try {
      data.putAll(
          new ObjectMapper()
              .readValue(
                  content.file(REPORT).orElseThrow(), new TypeReference<Map<String, Object>>() {}));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(REPORT + " is not readable", e);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> icd = (Map<String, Object>) data.get("icd10cm");
    data.put("icdVersion", icd.get("version"));
    data.put("icdCodes", icd.get("codes"));
    data.put("valueSets", content.valueSets().stream().map(RuleBook::summary).toList());
    data.put("index", codeIndex());
    return data;
  }

  /**
   * Every code of every expansion (ICD-10-CM undotted) → system, code, display, value sets; and
   * each value set's ICD-10-CM roots, for codes newer than the table. JSON, safe inside a script
   * element.
   */
  private String codeIndex() {
    ObjectMapper json = new ObjectMapper();
    var codes = json.createObjectNode();
    var roots = json.createObjectNode();
    for (ValueSet vs : content.valueSets()) {
      String id = vs.getIdElement().getIdPart();
      for (var c : vs.getExpansion().getContains()) {
        boolean icd = ICD10CM.equals(c.getSystem());
        String key = icd ? c.getCode().replace(".", "") : c.getCode();
        String system = c.getSystem().substring(c.getSystem().lastIndexOf('/') + 1);
        var entries = codes.has(key) ? (ArrayNode) codes.get(key) : codes.putArray(key);
        ArrayNode entry = null;
        for (var e : entries) {
          if (e.get(0).asText().equals(system)) {
            entry = (ArrayNode) e;
          }
        }
        if (entry == null) {
          entry = entries.addArray();
          entry.add(system);
          entry.add(c.getCode());
          entry.add(c.getDisplay() == null ? "" : c.getDisplay());
          entry.addArray();
        }
        ((ArrayNode) entry.get(3)).add(id);
      }
      var r = roots.putObject(id);
      icdRoots(vs, r.putArray("include"), r.putArray("exclude"));
    }
    var index = json.createObjectNode();
    index.set("codes", codes);
    index.set("roots", roots);
    return index.toString().replace("<", "\\u003c");
  }

  private void icdRoots(ValueSet vs, ArrayNode include, ArrayNode exclude) {
    for (var set : vs.getCompose().getInclude()) {
      set.getFilter().forEach(f -> include.add(f.getValue().replace(".", "")));
      for (var nested : set.getValueSet()) {
        content.valueSets().stream()
            .filter(v -> v.getUrl().equals(nested.getValue()))
            .findFirst()
            .ifPresent(v -> icdRoots(v, include, exclude));
      }
    }
    vs.getCompose()
        .getExclude()
        .forEach(set -> set.getFilter().forEach(f -> exclude.add(f.getValue().replace(".", ""))));
  }

  private Template template(String path) {
    return templates.computeIfAbsent(
        path,
        p ->
            Mustache.compiler()
                .escapeHTML(true)
                .defaultValue("")
                .emptyStringIsFalse(true)
                .compile(content.file(p).orElseThrow(() -> new IllegalStateException("no " + p))));
  }

  /**
   * The data the rule reads, from its Library's data requirements (computed from the ELM at build
   * time): the prefetch keys that bring each type read, and the Observations by code.
   */
  private Map<String, Object> dataRequirements(RuleDefinition rule) {
    Set<String> keys = new TreeSet<>(List.of("patient", "conditions"));
    List<Map<String, Object>> observations = new ArrayList<>();
    for (DataRequirement r :
        content.dataRequirements().getOrDefault(rule.libraryName(), List.of())) {
      keys.addAll(prefetch.keysFor(r.getType()));
      if (!"Observation".equals(r.getType())) {
        continue;
      }
      for (var filter : r.getCodeFilter()) {
        for (var code : filter.getCode()) {
          observations.add(
              Map.of(
                  "coded",
                  code.getSystem() + "|" + code.getCode(),
                  "finding",
                  code.getSystem().endsWith("/findings")));
        }
        if (filter.hasValueSet()) {
          observations.add(Map.of("valueSet", filter.getValueSet()));
        }
      }
    }
    return Map.of("keys", List.copyOf(keys), "observations", observations);
  }

  private List<Map<String, Object>> cases(RuleDefinition rule) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (CaseRun run : casesOf(rule)) {
      ContentCase c = run.c();
      List<Map<String, Object>> texts = new ArrayList<>();
      new TreeMap<>(c.expectedText())
          .forEach(
              (ruleId, expected) ->
                  expected.forEach(
                      t ->
                          texts.add(
                              Map.of(
                                  "rule", ruleId,
                                  "text", t,
                                  "missing", run.missingText().contains(t)))));
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("passes", run.passes());
      row.put("id", c.id());
      row.put("hook", c.hook());
      row.put("description", c.description());
      row.put("texts", texts);
      row.put("expected", String.join(", ", c.expectedCards()));
      row.put("actual", String.join(", ", run.actual()));
      rows.add(row);
    }
    return rows;
  }

  private List<CaseRun> casesOf(RuleDefinition rule) {
    return runs.stream()
        .filter(
            r ->
                r.c().library().equals(rule.libraryName())
                    || r.c().expectedCards().contains(rule.ruleId()))
        .toList();
  }

  private static List<RelatedArtifact> citations(RuleDefinition rule) {
    return rule.planDefinition().getRelatedArtifact().stream()
        .filter(a -> a.getType() == RelatedArtifact.RelatedArtifactType.CITATION)
        .toList();
  }

  private static String indicator(RuleDefinition rule) {
    var p = rule.action().getPriority();
    return p == null
        ? "info"
        : switch (p) {
          case STAT, ASAP -> "critical";
          case URGENT -> "warning";
          default -> "info";
        };
  }
}
