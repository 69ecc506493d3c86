package org.backhippain.cds.service.review;

import static org.springframework.web.util.HtmlUtils.htmlEscape;

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
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.DataRequirements;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.service.cards.Card;
import org.backhippain.cds.service.cards.CardFactory;
import org.backhippain.cds.service.cards.Coding;
import org.backhippain.cds.service.cards.Link;
import org.backhippain.cds.service.cards.Suggestion;
import org.backhippain.cds.service.cards.SuggestionAction;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.html.HtmlRenderer;
import org.hl7.fhir.r4.model.DataRequirement;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * The rule book informaticists review, generated from content: an index, one page per rule (plain
 * words, When/Then, card preview, thresholds with sources, value sets, data the EHR must send, CQL,
 * cases with expected and actual rule ids) and a page of every cited source.
 */
final class RuleBook {
  static final String VERIFY = ContentPackage.CANONICAL_BASE + "/StructureDefinition/verify";
  static final String INCLUDE_SOURCE =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/include-source";
  static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";

  /** Content: a value set on a rule page; the terminology page; the terminology build's report. */
  static final String VALUE_SET = "review/value-set.mustache";

  static final String TERMINOLOGY = "review/terminology.mustache";
  static final String REPORT = "review/terminology-report.json";
  private static final Pattern HEADER = Pattern.compile("\\A\\s*/\\*(.*?)\\*/", Pattern.DOTALL);
  private static final Pattern CONFIG_REF = Pattern.compile("Config\\.\"([^\"]+)\"");
  private static final Pattern VALUESET = Pattern.compile("valueset \"([^\"]+)\": '([^']+)'");
  private static final Pattern WINDOW = Pattern.compile("(Window|Look-back|Recent) Days$");

  /** The date rules every rule page states (content, paraphrasing the clinical spec §4). */
  static final String DATES = "review/dates-and-windows.md";

  private final ContentPackage content;
  private final RuleEngine engine;
  private final CardFactory cards;
  private final Parser markdown = Parser.builder().build();
  private final HtmlRenderer html = HtmlRenderer.builder().escapeHtml(true).build();
  private final Map<String, Parameter> parameters;
  private final Map<String, Template> templates = new HashMap<>();
  private final List<CaseRun> runs = new ArrayList<>();

  RuleBook(ContentPackage content, RuleEngine engine, ca.uhn.fhir.context.FhirContext fhir) {
    this.content = content;
    this.engine = engine;
    this.cards = new CardFactory(content, engine, fhir, new ObjectMapper(), "Back & Hip Pain CDS");
    this.parameters = parameters(content.cql().get("Config").text());
    for (ContentCase c : ContentCase.all(content, fhir)) {
      runs.add(run(c));
    }
  }

  /**
   * One case as the build evaluated it; {@code missingText}: the texts the case expects of a card
   * that its card does not show.
   */
  record CaseRun(
      ContentCase c, List<RuleResult> results, List<String> actual, List<String> missingText) {
    boolean passes() {
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
        Card card = cards.card(result, c.patientId(), "");
        String shown = card.summary() + "\n" + card.detail();
        texts.stream().filter(t -> !shown.contains(t)).forEach(missing::add);
      }
    }
    return new CaseRun(c, results, actual, missing);
  }

  List<CaseRun> runs() {
    return runs;
  }

  /** File name → page. */
  Map<String, String> pages() {
    Map<String, String> pages = new LinkedHashMap<>();
    pages.put("index.html", index());
    pages.put("sources.html", sources());
    pages.put("terminology.html", terminology());
    for (RuleDefinition rule : engine.catalog().rules()) {
      pages.put(rule.ruleId() + ".html", rule(rule));
    }
    return pages;
  }

  private String index() {
    StringBuilder rows = new StringBuilder();
    for (RuleDefinition rule : engine.catalog().rules()) {
      List<CaseRun> cases = casesOf(rule);
      long passing = cases.stream().filter(CaseRun::passes).count();
      rows.append("<tr><td><a href=\"review/")
          .append(rule.ruleId())
          .append("\">")
          .append(esc(rule.ruleId()))
          .append("</a></td><td>")
          .append(esc(rule.planDefinition().getTitle()))
          .append("</td><td>")
          .append(esc(String.join(", ", rule.hooks())))
          .append("</td><td>")
          .append(indicator(rule))
          .append("</td><td>")
          .append(esc(labels(rule)))
          .append("</td><td>")
          .append(passing)
          .append(" / ")
          .append(cases.size())
          .append("</td></tr>\n");
    }
    long total = runs.stream().filter(CaseRun::passes).count();
    return page(
        "Rule book",
        "<h1>Back &amp; Hip Pain CDS: rule book</h1>\n"
            + "<p>Generated by the build from the content package; every rule's CQL, value sets,"
            + " card text and cases. Cases passing at the last build: <strong>"
            + total
            + " / "
            + runs.size()
            + "</strong>. <a href=\"review/sources\">All cited sources</a>. <a href=\"review/terminology\">"
            + "Terminology: value sets, sources and code search</a>.</p>\n"
            + "<table data-testid=\"rules\"><thead><tr><th>rule id</th><th>title</th><th>hooks</th>"
            + "<th>indicator</th><th>sources</th><th>cases passing</th></tr></thead><tbody>\n"
            + rows
            + "</tbody></table>");
  }

  private String sources() {
    Map<String, Set<String>> usedBy = new LinkedHashMap<>();
    Map<String, RelatedArtifact> byLabel = new LinkedHashMap<>();
    for (RuleDefinition rule : engine.catalog().rules()) {
      for (RelatedArtifact a : citations(rule)) {
        String key = a.getCitation();
        byLabel.putIfAbsent(key, a);
        usedBy.computeIfAbsent(key, k -> new TreeSet<>()).add(rule.ruleId());
      }
    }
    StringBuilder items = new StringBuilder();
    byLabel.forEach(
        (citation, a) -> {
          items
              .append("<li><strong>")
              .append(esc(a.getLabel()))
              .append("</strong>: ")
              .append(esc(citation));
          if (a.hasUrl()) {
            items
                .append(" <a href=\"")
                .append(esc(a.getUrl()))
                .append("\">")
                .append(esc(a.getUrl()))
                .append("</a>");
          }
          items.append("<br>used by: ");
          items.append(
              usedBy.get(citation).stream()
                  .map(id -> "<a href=\"review/" + id + "\">" + id + "</a>")
                  .collect(Collectors.joining(", ")));
          items.append("</li>\n");
        });
    return page(
        "Sources",
        "<h1>Cited sources</h1><p><a href=\"review\">Rule book</a></p>\n"
            + "<p>The article the rule book derives from is paraphrased, never copied; these are the"
            + " sources it cites and the guidelines behind them.</p>\n<ul data-testid=\"sources\">\n"
            + items
            + "</ul>");
  }

  private String rule(RuleDefinition rule) {
    String cql = content.cql().get(rule.libraryName()).text();
    Map<String, String> header = header(cql);
    StringBuilder body = new StringBuilder();
    body.append(
        "<p><a href=\"review\">Rule book</a> · <a href=\"review/sources\">Sources</a></p>\n");
    body.append("<h1>")
        .append(esc(rule.planDefinition().getTitle()))
        .append(" <code>")
        .append(esc(rule.ruleId()))
        .append("</code></h1>\n");
    body.append("<p>").append(esc(rule.planDefinition().getDescription())).append("</p>\n");
    body.append("<p>Hooks: ")
        .append(esc(String.join(", ", rule.hooks())))
        .append(" · indicator: ")
        .append(indicator(rule))
        .append(" · library <code>")
        .append(esc(rule.libraryName()))
        .append("</code></p>\n");
    body.append("<h2>In plain words</h2><p data-testid=\"plain\">")
        .append(esc(header.getOrDefault("plain", "")))
        .append("</p>\n");
    body.append("<h2>When / Then</h2><dl data-testid=\"when-then\"><dt>When</dt><dd>")
        .append(esc(header.getOrDefault("when", "")))
        .append("</dd><dt>Then</dt><dd>")
        .append(esc(header.getOrDefault("then", "")))
        .append("</dd></dl>\n");
    body.append(cardPreview(rule));
    body.append(thresholds(cql));
    content
        .file(DATES)
        .ifPresent(
            text ->
                body.append("<div data-testid=\"dates\">")
                    .append(html.render(markdown.parse(text)))
                    .append("</div>\n"));
    body.append(valueSets(cql));
    body.append(data(rule));
    body.append("<h2>Sources</h2><ul>");
    for (RelatedArtifact a : citations(rule)) {
      body.append("<li>").append(esc(a.getCitation())).append("</li>");
    }
    body.append("</ul>\n");
    body.append(cases(rule));
    body.append("<h2>CQL</h2><pre data-testid=\"cql\">").append(esc(cql)).append("</pre>\n");
    return page(rule.planDefinition().getTitle(), body.toString());
  }

  private String cardPreview(RuleDefinition rule) {
    RuleResult example =
        casesOf(rule).stream()
            .flatMap(run -> run.results().stream())
            .filter(r -> r.applicable() && r.rule().ruleId().equals(rule.ruleId()))
            .findFirst()
            .orElse(null);
    if (example == null) {
      return "<h2>Card</h2><p>No positive case yet.</p>\n";
    }
    Card card = cards.card(example, "example-patient", "{service base URL}");
    StringBuilder out = new StringBuilder("<h2>Card as the EHR shows it</h2>\n");
    out.append("<div class=\"card ")
        .append(card.indicator().name().toLowerCase())
        .append("\" data-testid=\"card-preview\">");
    out.append("<div class=\"indicator\">").append(indicator(rule)).append("</div>");
    out.append("<div class=\"summary\">").append(esc(card.summary())).append("</div>");
    out.append("<div class=\"detail\">")
        .append(html.render(markdown.parse(card.detail())))
        .append("</div>");
    if (card.suggestions() != null) {
      out.append("<div class=\"suggestions\">");
      for (Suggestion s : card.suggestions()) {
        out.append("<button type=\"button\"")
            .append(Boolean.TRUE.equals(s.isRecommended()) ? " class=\"recommended\"" : "")
            .append(">")
            .append(esc(s.label()))
            .append("</button><ul>");
        for (SuggestionAction a : s.actions()) {
          out.append("<li>").append(esc(a.type())).append(": ").append(esc(a.description()));
          if (a.resourceId() != null) {
            out.append(" (").append(esc(a.resourceId())).append(")");
          }
          out.append("</li>");
        }
        out.append("</ul>");
      }
      out.append("</div>");
    }
    if (card.links() != null) {
      for (Link link : card.links()) {
        out.append("<p class=\"link\">Link: <u>").append(esc(link.label())).append("</u></p>");
      }
    }
    if (card.overrideReasons() != null) {
      out.append("<p class=\"reasons\">Dismiss reasons: ")
          .append(
              card.overrideReasons().stream()
                  .map(Coding::display)
                  .map(RuleBook::esc)
                  .collect(Collectors.joining(" · ")))
          .append("</p>");
    }
    out.append("</div>\n<p class=\"note\">Rendered from the first positive case below.</p>\n");
    return out.toString();
  }

  private String thresholds(String cql) {
    Set<String> names = new LinkedHashSet<>(List.of("Subacute From Days", "Chronic From Days"));
    Matcher m = CONFIG_REF.matcher(cql);
    while (m.find()) {
      names.add(m.group(1));
    }
    // Thresholds a rule uses through Common: the patient-view gate and long-term corticosteroids.
    if (cql.contains("Common.\"Gate\"")) {
      names.add("Red Flag Recent Days");
    }
    if (cql.contains("Common.\"Systemic Steroid")) {
      names.addAll(List.of("Steroid Days Threshold", "Steroid Look-back Days"));
    }
    StringBuilder rows = new StringBuilder();
    for (String name : names) {
      Parameter p = parameters.get(name);
      if (p != null) {
        rows.append("<tr><td>")
            .append(esc(name))
            .append("</td><td>")
            .append(esc(p.value()))
            .append("</td><td>")
            .append(esc(datesCovered(name, p.value())))
            .append("</td><td>")
            .append(esc(p.source()))
            .append("</td></tr>");
      }
    }
    return "<h2>Thresholds</h2><p>Defaults of the <code>Config</code> library; a site overrides them"
        + " with <code>cds.site-parameters</code>.</p><table data-testid=\"thresholds\"><thead><tr>"
        + "<th>parameter</th><th>default</th><th>dates covered</th><th>source</th></tr></thead><tbody>"
        + rows
        + "</tbody></table>\n";
  }

  /**
   * The calendar dates a window parameter covers ("in the last N days": today − N to today, both
   * included); empty for a threshold that is not a window.
   */
  static String datesCovered(String parameter, String value) {
    Matcher days = Pattern.compile("^(\\d+) ").matcher(value);
    if (!WINDOW.matcher(parameter).find() || !days.find()) {
      return "";
    }
    int n = Integer.parseInt(days.group(1));
    return "today − " + n + " to today: " + (n + 1) + " calendar dates";
  }

  private String valueSets(String cql) {
    StringBuilder out = new StringBuilder("<h2>Value sets</h2>\n");
    Matcher m = VALUESET.matcher(cql);
    Set<String> urls = new LinkedHashSet<>();
    while (m.find()) {
      urls.add(m.group(2));
    }
    if (urls.isEmpty()) {
      urls.add(ContentPackage.CANONICAL_BASE + "/ValueSet/back-hip-pain");
    }
    for (String url : urls) {
      content.valueSets().stream()
          .filter(v -> v.getUrl().equals(url))
          .findFirst()
          .ifPresent(vs -> out.append(valueSet(vs)));
    }
    return out.toString();
  }

  private String valueSet(ValueSet vs) {
    return template(VALUE_SET).execute(valueSetData(vs));
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
  private String terminology() {
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
    return page("Terminology", template(TERMINOLOGY).execute(data));
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
      var include = r.putArray("include");
      var exclude = r.putArray("exclude");
      icdRoots(vs, include, exclude);
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
                .nullValue("")
                .compile(content.file(p).orElseThrow(() -> new IllegalStateException("no " + p))));
  }

  /**
   * The data the rule reads, from its Library's data requirements (computed from the ELM at build
   * time): the prefetch keys that bring each type read, and the Observations by code.
   */
  private String data(RuleDefinition rule) {
    var prefetch = DataRequirements.prefetch(content);
    Set<String> keys = new TreeSet<>(List.of("patient", "conditions"));
    StringBuilder observations = new StringBuilder();
    for (DataRequirement r :
        content.dataRequirements().getOrDefault(rule.libraryName(), List.of())) {
      keys.addAll(DataRequirements.keysFor(prefetch, r.getType()));
      if (!"Observation".equals(r.getType())) {
        continue;
      }
      for (var filter : r.getCodeFilter()) {
        for (var code : filter.getCode()) {
          observations
              .append("<li>Observation coded <code>")
              .append(esc(code.getSystem() + "|" + code.getCode()))
              .append("</code>")
              .append(
                  code.getSystem().endsWith("/findings")
                      ? ": a questionnaire item with <code>valueBoolean</code> true when present"
                      : "")
              .append("</li>");
        }
        if (filter.hasValueSet()) {
          observations
              .append("<li>Observation coded in <code>")
              .append(esc(filter.getValueSet()))
              .append("</code></li>");
        }
      }
    }
    return "<h2>Data the EHR must send</h2><p>Prefetch keys read: <code>"
        + String.join("</code>, <code>", keys.stream().map(RuleBook::esc).toList())
        + "</code>. Without <code>patient</code> or <code>conditions</code> the service answers 412.</p>"
        + (observations.length() == 0
            ? ""
            : "<ul data-testid=\"observations\">" + observations + "</ul>")
        + "\n";
  }

  private String cases(RuleDefinition rule) {
    StringBuilder rows = new StringBuilder();
    for (CaseRun run : casesOf(rule)) {
      ContentCase c = run.c();
      rows.append("<tr class=\"")
          .append(run.passes() ? "pass" : "fail")
          .append("\"><td>")
          .append(esc(c.id()))
          .append("</td><td>")
          .append(esc(c.hook()))
          .append("</td><td>")
          .append(esc(c.description()))
          .append(expectedText(run))
          .append("</td><td>")
          .append(esc(String.join(", ", c.expectedCards())))
          .append("</td><td>")
          .append(esc(String.join(", ", run.actual())))
          .append("</td><td>")
          .append(run.passes() ? "pass" : "FAIL")
          .append("</td></tr>\n");
    }
    return "<h2>Test cases</h2><p>Expected rule ids (from the case) and actual rule ids (the engine"
        + " at the last build).</p><table data-testid=\"cases\"><thead><tr><th>case</th><th>hook</th>"
        + "<th>what it shows</th><th>expected</th><th>actual</th><th>result</th></tr></thead><tbody>"
        + rows
        + "</tbody></table>\n";
  }

  private static String expectedText(CaseRun run) {
    StringBuilder out = new StringBuilder();
    run.c()
        .expectedText()
        .forEach(
            (rule, texts) ->
                texts.forEach(
                    t ->
                        out.append("<br><small>")
                            .append(esc(rule))
                            .append(" card shows “")
                            .append(esc(t))
                            .append("”")
                            .append(
                                run.missingText().contains(t) ? " — <strong>missing</strong>" : "")
                            .append("</small>")));
    return out.toString();
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

  private static String labels(RuleDefinition rule) {
    return citations(rule).stream()
        .map(RelatedArtifact::getLabel)
        .collect(Collectors.joining("; "));
  }

  private static String indicator(RuleDefinition rule) {
    var p = rule.action().getPriority();
    String name =
        p == null
            ? "info"
            : switch (p) {
              case STAT, ASAP -> "critical";
              case URGENT -> "warning";
              default -> "info";
            };
    return "<span class=\"badge " + name + "\">" + name + "</span>";
  }

  /** The rule library's opening comment, split into its plain-words, When and Then parts. */
  static Map<String, String> header(String cql) {
    Map<String, String> parts = new LinkedHashMap<>();
    Matcher m = HEADER.matcher(cql);
    if (!m.find()) {
      return parts;
    }
    String text =
        m.group(1)
            .lines()
            .map(l -> l.replaceFirst("^\\s*\\*\\s?", ""))
            .collect(Collectors.joining("\n"));
    String plain = between(text, "In plain words:", "When:");
    parts.put(
        "plain",
        plain.isEmpty() ? plain : Character.toUpperCase(plain.charAt(0)) + plain.substring(1));
    parts.put("when", between(text, "When:", "Then:"));
    parts.put("then", between(text, "Then:", "Sources:"));
    return parts;
  }

  private static String between(String text, String from, String to) {
    int i = text.indexOf(from);
    if (i < 0) {
      return "";
    }
    int j = text.indexOf(to, i + from.length());
    return text.substring(i + from.length(), j < 0 ? text.length() : j)
        .replaceAll("\\s+", " ")
        .strip();
  }

  /** Config parameter name → default and source comment. */
  record Parameter(String value, String source) {}

  static Map<String, Parameter> parameters(String config) {
    Map<String, Parameter> out = new LinkedHashMap<>();
    Matcher block =
        Pattern.compile(
                "/\\*((?:(?!\\*/).)*)\\*/\\s*((?:parameter \"[^\"]+\" \\w+ default [^\\n]+\\n?)+)",
                Pattern.DOTALL)
            .matcher(config);
    while (block.find()) {
      String source = block.group(1).replaceAll("-{3,}", " ").replaceAll("\\s+", " ").strip();
      Matcher p =
          Pattern.compile("parameter \"([^\"]+)\" (\\w+) default ([^\\n]+)")
              .matcher(block.group(2));
      while (p.find()) {
        out.put(p.group(1), new Parameter(p.group(3).strip() + " (" + p.group(2) + ")", source));
      }
    }
    return out;
  }

  static String page(String title, String body) {
    return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><base href="/"><link rel="icon" href="data:,">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>%s · Back &amp; Hip Pain CDS</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;line-height:1.5;color:#222}
        table{border-collapse:collapse;width:100%%;margin:.5rem 0 1rem}
        th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.92rem;overflow-wrap:break-word}
        th{background:#f4f4f4} pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:.85rem}
        tr.verify td{background:#fff8e1} tr.fail td{background:#fde7e9}
        .badge{padding:.1rem .45rem;border-radius:.6rem;font-size:.8rem;color:#fff}
        .badge.info{background:#1565c0}.badge.warning{background:#ef6c00}.badge.critical{background:#c62828}
        .card{border:1px solid #ccc;border-left:.5rem solid #1565c0;border-radius:.3rem;padding:.8rem 1rem;max-width:44rem}
        .card.warning{border-left-color:#ef6c00}.card.critical{border-left-color:#c62828}
        .card .summary{font-weight:600;margin:.3rem 0}
        .card button{margin:.3rem .3rem 0 0;padding:.3rem .7rem}.card button.recommended{font-weight:700}
        </style></head>
        <body>
        %s
        </body></html>
        """
        .formatted(esc(title), body);
  }

  static String esc(String text) {
    return text == null ? "" : htmlEscape(text);
  }
}
