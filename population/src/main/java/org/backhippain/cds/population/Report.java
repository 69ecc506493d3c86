package org.backhippain.cds.population;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.backhippain.cds.cql.RuleDefinition;

/**
 * The informaticist's report of a run: {@code report.json} (every figure, for tools and tests) and
 * {@code report.html} (the same figures with inline SVG charts: alert burden per rule, the imaging
 * measure with its exclusions, cards by age band; opens offline). Aggregates only: no patient id.
 */
final class Report {
  static final String JSON_FILE = "report.json";
  static final String HTML_FILE = "report.html";
  static final int TOP_CODES = 25;
  static final int TOP_ORGANISATIONS = 15;
  static final List<String> AGE_BANDS =
      List.of("0-17", "18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+", "unknown");

  static final String SNOOZES =
      "Snoozes and feedback are not modelled: every card is counted as shown. In the service an"
          + " overridden card is snoozed for its rule's snooze days, and an accepted PT referral"
          + " silences that card; the burden in practice is lower than counted here.";

  /** One rule's line. */
  record RuleRow(
      String ruleId,
      String indicator,
      String evaluatedAt,
      long inScope,
      long patientsWithCard,
      long cards,
      double per1000Patients,
      Double per1000InScope) {}

  /** One group of a breakdown (an age band, a sex, an organisation). */
  record Group(String value, String label, long patients, long inScope, Map<String, Long> cards) {}

  record Code(String system, String code, String display, long patients, long resources) {}

  record Problem(String file, String kind, long count, List<Long> lines, String numbering) {}

  /** Everything the report shows, as {@code report.json} holds it. */
  record Data(
      String asOf,
      String timeZone,
      Map<String, String> siteParameters,
      long patients,
      long patientsInScope,
      List<RuleRow> rules,
      List<String> notEvaluatedRules,
      Map<String, Object> imaging,
      Map<String, List<Group>> breakdowns,
      List<Code> unmatchedCodes,
      Map<String, Object> input,
      List<Problem> problems,
      boolean inputSkipped,
      String snoozes,
      long seconds) {}

  private Report() {}

  static Data data(PopulationJob.Result r) {
    Tally t = r.tally();
    String imagingRule = ImagingMeasure.ruleId(r.engine().catalog());
    List<RuleRow> rules = new ArrayList<>();
    List<String> notEvaluated = new ArrayList<>();
    for (RuleDefinition rule : r.engine().catalog().rules()) {
      boolean view = rule.triggeredBy(PatientEvaluator.PATIENT_VIEW);
      boolean imaging = rule.ruleId().equals(imagingRule);
      if (!view && !imaging) {
        notEvaluated.add(rule.ruleId());
        continue;
      }
      long inScope = imaging ? t.imagingPatientsInScope : t.inScope;
      long with = t.cards.getOrDefault(rule.ruleId(), 0L);
      rules.add(
          new RuleRow(
              rule.ruleId(),
              rule.indicator(),
              imaging
                  ? "order-select, at each imaging order's date"
                  : PatientEvaluator.PATIENT_VIEW + ", as of " + r.options().asOf(),
              inScope,
              with,
              t.cardCount.getOrDefault(rule.ruleId(), 0L),
              per1000(with, t.patients),
              inScope == 0 ? null : per1000(with, inScope)));
    }
    Map<String, List<Group>> breakdowns = new LinkedHashMap<>();
    breakdowns.put("ageBand", groups(t, Tally.AGE, AGE_BANDS));
    breakdowns.put("sex", groups(t, Tally.SEX, null));
    breakdowns.put("organisation", groups(t, Tally.ORGANISATION, null));
    List<Code> codes =
        t.unmatched.entrySet().stream()
            .sorted(
                Comparator.comparingLong((Map.Entry<String, long[]> e) -> -e.getValue()[0])
                    .thenComparingLong(e -> -e.getValue()[1])
                    .thenComparing(Map.Entry::getKey))
            .limit(TOP_CODES)
            .map(
                e -> {
                  String[] parts = e.getKey().split("\\|", 3);
                  return new Code(
                      parts[0],
                      parts[1],
                      parts.length > 2 ? parts[2] : "",
                      e.getValue()[0],
                      e.getValue()[1]);
                })
            .toList();
    return new Data(
        r.options().asOf().toString(),
        r.options().zone(),
        new TreeMap<>(r.options().siteParameters()),
        t.patients,
        t.inScope,
        rules,
        notEvaluated,
        imaging(t),
        breakdowns,
        codes,
        input(r),
        problems(r),
        r.skipped(),
        SNOOZES,
        r.seconds());
  }

  private static Map<String, Object> imaging(Tally t) {
    Map<String, Object> m = new LinkedHashMap<>();
    long all = t.orders.values().stream().mapToLong(Long::longValue).sum();
    m.put("orders", all);
    m.put("undated", t.orders(ImagingMeasure.UNDATED));
    m.put("notEvaluated", t.orders(ImagingMeasure.ERROR));
    m.put("outOfScope", t.orders(ImagingMeasure.OUT_OF_SCOPE));
    m.put("denominator", t.denominator());
    m.put("exclusions", t.exclusions());
    m.put("excludedRedFlag", t.orders(ImagingMeasure.RED_FLAG));
    m.put("excludedRedFlagByRule", new TreeMap<>(t.orderFlags));
    m.put("excludedDataGap", t.orders(ImagingMeasure.GAP));
    m.put("onsetUnknown", t.orders(ImagingMeasure.ONSET_UNKNOWN));
    m.put("afterWindow", t.orders(ImagingMeasure.AFTER_WINDOW));
    m.put("numerator", t.orders(ImagingMeasure.NUMERATOR));
    m.put("rate", t.imagingRate());
    m.put(
        "note",
        "Orders are ServiceRequests with a lumbar-spine, SI-joint or hip imaging code (LOINC or"
            + " CPT, clinical spec 6i), each evaluated at order-select as of its own authoredOn with"
            + " itself as the draft. Imaging recorded only as ImagingStudy or Procedure is not"
            + " counted: Synthea records imaging that way (and none of it is lumbar, SI-joint or hip"
            + " imaging), so on Synthea data the rate is 0 orders, not a measurement.");
    return m;
  }

  private static List<Group> groups(Tally t, String dimension, List<String> order) {
    List<Group> groups = new ArrayList<>();
    String prefix = dimension + "|";
    t.patientsBy.forEach(
        (key, patients) -> {
          if (!key.startsWith(prefix)) {
            return;
          }
          String value = key.substring(prefix.length());
          Map<String, Long> cards = new TreeMap<>();
          t.cardsBy.forEach(
              (k, n) -> {
                if (k.startsWith(key + "|")) {
                  cards.put(k.substring(key.length() + 1), n);
                }
              });
          String label =
              dimension.equals(Tally.ORGANISATION)
                  ? t.organizations.getOrDefault(value, value)
                  : value;
          groups.add(new Group(value, label, patients, t.inScopeBy.getOrDefault(key, 0L), cards));
        });
    if (order != null) {
      groups.sort(Comparator.comparingInt(g -> order.indexOf(g.value())));
      return groups;
    }
    groups.sort(Comparator.comparingLong((Group g) -> -g.patients()).thenComparing(Group::label));
    if (dimension.equals(Tally.ORGANISATION) && groups.size() > TOP_ORGANISATIONS) {
      List<Group> top = new ArrayList<>(groups.subList(0, TOP_ORGANISATIONS));
      long patients = 0;
      long inScope = 0;
      Map<String, Long> cards = new TreeMap<>();
      for (Group g : groups.subList(TOP_ORGANISATIONS, groups.size())) {
        patients += g.patients();
        inScope += g.inScope();
        g.cards().forEach((k, v) -> cards.merge(k, v, Long::sum));
      }
      top.add(
          new Group(
              "(others)",
              (groups.size() - TOP_ORGANISATIONS) + " other organisations",
              patients,
              inScope,
              cards));
      return top;
    }
    return groups;
  }

  private static Map<String, Object> input(PopulationJob.Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("filesRead", r.plan().files().size());
    m.put("linesRead", r.linesRead());
    m.put("missingFiles", r.plan().missing());
    m.put("filesNotRead", r.plan().notRead());
    m.put("resourcesNotRead", r.input().named("not read"));
    m.put("filteredAsThePrefetchQueriesFilter", r.input().named("filtered"));
    m.put(
        "medicationReferencesNotFound",
        r.input().named("not found").getOrDefault("Medication", 0L));
    m.put("unavailableKeys", r.settings().unavailable());
    m.put("unknownPatientGroups", r.tally().unknownPatients);
    m.put("unknownPatientResources", r.tally().unknownPatientResources);
    m.put("patientsNotEvaluated", r.tally().notEvaluated);
    m.put("ruleErrors", r.tally().ruleErrors);
    m.put("replicas", r.options().replicate());
    return m;
  }

  private static List<Problem> problems(PopulationJob.Result r) {
    List<Problem> out = new ArrayList<>();
    r.input()
        .problems
        .forEach(
            (key, count) -> {
              int bar = key.indexOf('|');
              int file = Integer.parseInt(key.substring(0, bar));
              InputPlan.InputFile f = file >= 0 ? r.plan().files().get(file) : null;
              out.add(
                  new Problem(
                      f == null ? "?" : f.name(),
                      key.substring(bar + 1),
                      count,
                      r.problemLines().getOrDefault(key, List.of()),
                      f != null && f.format() == InputPlan.Format.BUNDLE ? "entry" : "line"));
            });
    for (String missing : r.plan().missing()) {
      out.add(new Problem(missing, "missing file", 1, List.of(), "line"));
    }
    return out;
  }

  static double per1000(long count, long of) {
    return of == 0 ? 0 : Math.round(count * 10000.0 / of) / 10.0;
  }

  static void write(PopulationJob.Result r, Configuration hadoop) {
    Data data = data(r);
    try {
      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      write(hadoop, r.options().output(), JSON_FILE, json.writeValueAsBytes(data));
      write(hadoop, r.options().output(), HTML_FILE, html(data).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the report", e);
    }
  }

  private static void write(Configuration hadoop, String folder, String name, byte[] bytes)
      throws IOException {
    Path path = new Path(folder, name);
    FileSystem fs = fileSystem(path, hadoop);
    try (OutputStream out = fs.create(path, true)) {
      out.write(bytes);
    }
  }

  /** The path's file system; on a local disk without Hadoop's {@code .crc} files beside ours. */
  static FileSystem fileSystem(Path path, Configuration hadoop) throws IOException {
    FileSystem fs = path.getFileSystem(hadoop);
    return fs instanceof ChecksumFileSystem checksummed ? checksummed.getRawFileSystem() : fs;
  }

  // ---- HTML -------------------------------------------------------------------------------

  static String html(Data d) {
    Html h = new Html();
    h.raw(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            + "<title>Population dry run, as of "
            + Html.escape(d.asOf())
            + "</title><style>"
            + STYLE
            + "</style></head><body>");
    h.raw("<h1>Back &amp; Hip Pain CDS: population dry run</h1>");
    h.p(
        String.format(
            Locale.ROOT,
            "As of %s (%s). %,d patients evaluated, %,d in scope (an active back or hip problem, or"
                + " a recent cauda equina diagnosis). Run took %d s.",
            d.asOf(),
            d.timeZone(),
            d.patients(),
            d.patientsInScope(),
            d.seconds()));
    h.raw("<p class=\"note\" data-testid=\"snoozes\">" + Html.escape(d.snoozes()) + "</p>");
    if (!d.siteParameters().isEmpty()) {
      h.p("Site parameters applied (cds.site-parameters): " + d.siteParameters());
    }
    if (d.inputSkipped()) {
      h.raw(
          "<p class=\"warn\" data-testid=\"skipped\">Some input was skipped: see"
              + " <a href=\"#input\">Input</a>.</p>");
    }

    h.raw("<h2 id=\"burden\">Alert burden per rule</h2>");
    List<Svg.Bar> burden = new ArrayList<>();
    for (RuleRow rule : d.rules()) {
      burden.add(
          new Svg.Bar(
              rule.ruleId(),
              rule.per1000Patients(),
              Svg.indicatorColor(rule.indicator()),
              String.format(
                  Locale.ROOT, "%.1f (%,d)", rule.per1000Patients(), rule.patientsWithCard())));
    }
    h.raw(Svg.bars("chart-alert-burden", "Patients with the card per 1,000 patients", burden));
    h.raw(
        "<p class=\"legend\"><span style=\"color:"
            + Svg.CRITICAL
            + "\">■</span> critical <span style=\"color:"
            + Svg.WARNING
            + "\">■</span> warning <span style=\"color:"
            + Svg.INFO
            + "\">■</span> info</p>");
    h.raw(
        "<table data-testid=\"rules\"><thead><tr><th>rule</th><th>indicator</th>"
            + "<th>evaluated at</th><th>patients in scope</th><th>patients with the card</th>"
            + "<th>cards</th><th>per 1,000 patients</th><th>per 1,000 in scope</th></tr></thead>"
            + "<tbody>");
    for (RuleRow rule : d.rules()) {
      h.raw("<tr data-rule=\"" + Html.escape(rule.ruleId()) + "\">");
      h.cells(
          rule.ruleId(),
          rule.indicator(),
          rule.evaluatedAt(),
          count(rule.inScope()),
          count(rule.patientsWithCard()),
          count(rule.cards()),
          String.format(Locale.ROOT, "%.1f", rule.per1000Patients()),
          rule.per1000InScope() == null
              ? "–"
              : String.format(Locale.ROOT, "%.1f", rule.per1000InScope()));
      h.raw("</tr>");
    }
    h.raw("</tbody></table>");
    if (!d.notEvaluatedRules().isEmpty()) {
      h.p(
          "Not evaluated in a dry run (order rules that need a clinician's drafts): "
              + String.join(", ", d.notEvaluatedRules())
              + ".");
    }

    imagingHtml(h, d.imaging());

    h.raw("<h2 id=\"breakdowns\">By age band, sex and organisation</h2>");
    List<String> shown =
        d.rules().stream().filter(r -> r.patientsWithCard() > 0).map(RuleRow::ruleId).toList();
    List<Svg.Bar> ages = new ArrayList<>();
    for (Group g : d.breakdowns().get("ageBand")) {
      long cards = g.cards().values().stream().mapToLong(Long::longValue).sum();
      double per1000 = per1000(cards, g.patients());
      ages.add(
          new Svg.Bar(
              g.label(),
              per1000,
              Svg.INFO,
              String.format(Locale.ROOT, "%.1f (%,d patients)", per1000, g.patients())));
    }
    h.raw(Svg.bars("chart-age", "Cards per 1,000 patients, by age band", ages));
    d.breakdowns()
        .forEach(
            (dimension, groups) -> {
              h.raw("<h3>" + Html.escape(dimension) + "</h3>");
              h.raw(
                  "<table data-testid=\"by-"
                      + Html.escape(dimension)
                      + "\"><thead><tr><th>"
                      + Html.escape(dimension)
                      + "</th><th>patients</th><th>in scope</th>");
              shown.forEach(rule -> h.raw("<th>" + Html.escape(rule) + "<br>per 1,000</th>"));
              h.raw("</tr></thead><tbody>");
              for (Group g : groups) {
                h.raw("<tr>");
                h.cells(g.label(), count(g.patients()), count(g.inScope()));
                for (String rule : shown) {
                  h.cells(
                      String.format(
                          Locale.ROOT,
                          "%.1f",
                          per1000(g.cards().getOrDefault(rule, 0L), g.patients())));
                }
                h.raw("</tr>");
              }
              h.raw("</tbody></table>");
            });

    h.raw("<h2 id=\"terminology\">Codes no value set matched</h2>");
    h.p(
        "The most frequent codes of Conditions, Procedures, ServiceRequests and medications (as of"
            + " the date) that no value set of the content contains: where a site's coding may hide"
            + " patients from the rules. Most are unrelated to back and hip pain.");
    h.raw(
        "<table data-testid=\"unmatched-codes\"><thead><tr><th>system</th><th>code</th>"
            + "<th>display</th><th>patients</th><th>resources</th></tr></thead><tbody>");
    for (Code c : d.unmatchedCodes()) {
      h.raw("<tr>");
      h.cells(c.system(), c.code(), c.display(), count(c.patients()), count(c.resources()));
      h.raw("</tr>");
    }
    h.raw("</tbody></table>");

    inputHtml(h, d);
    h.raw("</body></html>");
    return h.toString();
  }

  private static void imagingHtml(Html h, Map<String, Object> m) {
    h.raw("<h2 id=\"imaging\">Imaging without indication (retrospective)</h2>");
    Object rate = m.get("rate");
    h.raw(
        "<p data-testid=\"imaging-rate\" class=\"big\">"
            + (rate == null
                ? "No imaging order in the denominator"
                : String.format(
                    Locale.ROOT,
                    "%.1f%% of imaging orders without a red flag were placed before the window"
                        + " (%s of %s)",
                    ((Double) rate) * 100,
                    m.get("numerator"),
                    ((Number) m.get("denominator")).longValue()
                        - ((Number) m.get("exclusions")).longValue()))
            + "</p>");
    List<Svg.Bar> bars = new ArrayList<>();
    bars.add(bar("all imaging orders", m.get("orders"), Svg.MUTED));
    bars.add(bar("out of scope", m.get("outOfScope"), Svg.MUTED));
    bars.add(bar("denominator (in scope)", m.get("denominator"), Svg.INFO));
    @SuppressWarnings("unchecked")
    Map<String, Long> flags = (Map<String, Long>) m.get("excludedRedFlagByRule");
    bars.add(bar("excluded: red flag", m.get("excludedRedFlag"), Svg.CRITICAL));
    flags.forEach((rule, n) -> bars.add(bar("  " + rule, n, Svg.CRITICAL)));
    bars.add(bar("excluded: data gap", m.get("excludedDataGap"), Svg.WARNING));
    bars.add(bar("onset unknown", m.get("onsetUnknown"), Svg.MUTED));
    bars.add(bar("after the window", m.get("afterWindow"), Svg.GOOD));
    bars.add(bar("numerator: not indicated", m.get("numerator"), Svg.WARNING));
    h.raw(Svg.bars("chart-imaging", "Imaging orders by outcome", bars));
    h.raw("<table data-testid=\"imaging\"><tbody>");
    IMAGING_LABELS.forEach(
        (k, label) -> {
          Object v = m.get(k);
          h.raw("<tr>");
          h.cells(
              label,
              v instanceof Double rateValue
                  ? String.format(Locale.ROOT, "%.1f%%", rateValue * 100)
                  : v == null ? "–" : String.valueOf(v));
          h.raw("</tr>");
        });
    h.raw("</tbody></table>");
    h.raw("<p class=\"note\">" + Html.escape(String.valueOf(m.get("note"))) + "</p>");
  }

  private static final Map<String, String> IMAGING_LABELS = new LinkedHashMap<>();

  static {
    IMAGING_LABELS.put("orders", "imaging orders (lumbar spine, SI joint, hip)");
    IMAGING_LABELS.put("undated", "without authoredOn (not evaluated)");
    IMAGING_LABELS.put("notEvaluated", "could not be evaluated");
    IMAGING_LABELS.put("outOfScope", "out of scope (no back or hip problem at the order)");
    IMAGING_LABELS.put("denominator", "denominator: in scope");
    IMAGING_LABELS.put("excludedRedFlag", "exclusions: red flag (R1-R4 card at the order)");
    IMAGING_LABELS.put("excludedRedFlagByRule", "red flags by rule");
    IMAGING_LABELS.put("excludedDataGap", "exclusions: data gap");
    IMAGING_LABELS.put("onsetUnknown", "onset unknown (not counted as too early)");
    IMAGING_LABELS.put("afterWindow", "after the window (episode long enough)");
    IMAGING_LABELS.put("numerator", "numerator: imaging not indicated (card fired)");
    IMAGING_LABELS.put("rate", "rate: numerator / (denominator - exclusions)");
  }

  private static Svg.Bar bar(String label, Object value, String color) {
    long n = ((Number) value).longValue();
    return new Svg.Bar(label, n, color, String.format(Locale.ROOT, "%,d", n));
  }

  private static void inputHtml(Html h, Data d) {
    h.raw("<h2 id=\"input\">Input</h2>");
    h.raw("<table data-testid=\"input\"><tbody>");
    d.input()
        .forEach(
            (k, v) -> {
              h.raw("<tr>");
              h.cells(k, String.valueOf(v));
              h.raw("</tr>");
            });
    h.raw("</tbody></table>");
    h.raw("<h3>Bad input (skipped; the rest was read)</h3>");
    if (d.problems().isEmpty()) {
      h.raw("<p data-testid=\"no-problems\">None.</p>");
      return;
    }
    h.raw(
        "<table data-testid=\"problems\"><thead><tr><th>file</th><th>problem</th><th>count</th>"
            + "<th>first lines or entries</th></tr></thead><tbody>");
    for (Problem p : d.problems()) {
      h.raw("<tr>");
      h.cells(
          p.file(),
          p.kind(),
          count(p.count()),
          p.lines().isEmpty() ? "" : p.numbering() + " " + p.lines());
      h.raw("</tr>");
    }
    h.raw("</tbody></table>");
  }

  private static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private static final String STYLE =
      "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
          + "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}"
          + "table{border-collapse:collapse;margin:1em 0}"
          + "th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}"
          + "th:first-child,td:first-child{text-align:left}th{background:#f4f6f8}"
          + ".note{color:#555}.warn{color:#b71c1c;font-weight:bold}.big{font-size:1.3em}"
          + "svg.chart text{font:12px system-ui,sans-serif;fill:#222}"
          + "svg.chart .chart-title{font-weight:bold}.legend span{font-size:1.2em}";

  /** A small HTML writer: text is always escaped. */
  static final class Html {
    private final StringBuilder out = new StringBuilder();

    void raw(String html) {
      out.append(html);
    }

    void p(String text) {
      out.append("<p>").append(escape(text)).append("</p>");
    }

    void cells(String... texts) {
      for (String text : texts) {
        out.append("<td>").append(escape(text)).append("</td>");
      }
    }

    static String escape(String text) {
      if (text == null) {
        return "";
      }
      return text.replace("&", "&amp;")
          .replace("<", "&lt;")
          .replace(">", "&gt;")
          .replace("\"", "&quot;");
    }

    @Override
    public String toString() {
      return out.toString();
    }
  }
}
