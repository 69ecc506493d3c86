package org.backhippain.cds.population;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.ContentTerminology;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark job in local mode over exports generated at test time from the content's cases: the
 * per-rule counts equal the cases' expected cards (patient-view cases as of their evaluation date;
 * order cases' imaging drafts as orders dated at it, giving the imaging measure).
 */
class PopulationRunTests {
  static final Path TARGET = Path.of("target", "population-tests").toAbsolutePath();
  static final LocalDate DATE = LocalDate.of(2026, 6, 15);
  static ContentPackage content;
  static RuleEngine engine;
  static CaseExport.Written views;
  static CaseExport.Written orders;

  @BeforeAll
  static void exports() {
    content = PatientEvaluator.Content.get();
    engine = RuleEngine.start(content, PatientEvaluator.Content.FHIR, Map.of());
    views =
        CaseExport.write(
            TARGET.resolve("views"),
            content,
            PatientEvaluator.Content.FHIR,
            c -> c.hook().equals("patient-view"));
    orders =
        CaseExport.write(
            TARGET.resolve("orders"),
            content,
            PatientEvaluator.Content.FHIR,
            c -> !c.hook().equals("patient-view"));
    assertThat(views.evaluationDates()).containsExactly(DATE);
    assertThat(orders.evaluationDates()).containsExactly(DATE);
  }

  static PopulationJob.Result run(String export, String output, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "--input",
                TARGET.resolve(export).toString(),
                "--output",
                TARGET.resolve(output).toString(),
                "--as-of",
                DATE.toString(),
                "--progress-seconds",
                "2"));
    args.addAll(List.of(more));
    RunOptions options = RunOptions.parse(args.toArray(String[]::new));
    SparkSession spark = LocalSpark.session();
    PopulationJob.Result result = PopulationJob.run(spark, options);
    Report.write(result, spark.sparkContext().hadoopConfiguration());
    return result;
  }

  @Test
  void patientViewCountsEqualTheCasesExpectedCards() throws Exception {
    PopulationJob.Result result = run("views", "views-out");
    Map<String, Long> expected =
        views.cases().stream()
            .flatMap(c -> c.expectedCards().stream())
            .collect(Collectors.groupingBy(r -> r, TreeMap::new, Collectors.counting()));

    JsonNode report = new ObjectMapper().readTree(TARGET.resolve("views-out/report.json").toFile());
    assertThat(report.path("patients").asLong()).isEqualTo(views.patients());
    Map<String, Long> counted = new TreeMap<>();
    for (JsonNode rule : report.path("rules")) {
      counted.put(rule.path("ruleId").asText(), rule.path("patientsWithCard").asLong());
    }
    Map<String, Set<String>> byPatient = worklist("views-out");
    for (ContentCase c : views.cases()) {
      assertThat(byPatient.getOrDefault(c.patientId(), Set.of()))
          .as(c.id() + ": " + c.description())
          .containsExactlyInAnyOrderElementsOf(c.expectedCards());
    }
    for (RuleDefinition rule : engine.catalog().triggeredBy("patient-view")) {
      assertThat(counted.get(rule.ruleId()))
          .as(rule.ruleId())
          .isEqualTo(expected.getOrDefault(rule.ruleId(), 0L));
    }
    assertThat(result.skipped()).isFalse();
  }

  @Test
  void theImagingMeasureCountsEachOrderCaseAsItsOrderHookDid() throws Exception {
    PopulationJob.Result result = run("orders", "orders-out");
    String imaging = ImagingMeasure.ruleId(engine.catalog());
    ContentTerminology terminology = new ContentTerminology(content);
    long all = 0;
    long numerator = 0;
    long inScope = 0;
    Map<String, Long> flags = new TreeMap<>();
    long flagged = 0;
    Set<String> patientsWithCard = new TreeSet<>();
    for (ContentCase c : orders.cases()) {
      List<String> signed = signed(c);
      for (Resource draft : c.allDrafts()) {
        if (!(draft instanceof ServiceRequest order)
            || order.getStatus() == ServiceRequest.ServiceRequestStatus.ENTEREDINERROR
            || order.getCode().getCoding().stream().noneMatch(co -> imaging(terminology, co))) {
          continue;
        }
        all++;
        List<String> redFlags = signed.stream().filter(r -> !r.equals(imaging)).toList();
        if (!redFlags.isEmpty()) {
          flagged++;
          redFlags.forEach(f -> flags.merge(f, 1L, Long::sum));
        }
        if (signed.contains(imaging)) {
          numerator++;
          patientsWithCard.add(c.patientId());
        }
        // The denominator's "in scope" is no card: the engine evaluated directly, as the
        // service would at order-sign, is the oracle.
        RuleEngine.Evaluation direct =
            engine.evaluate(
                new EvaluationInput(
                    c.record(),
                    "order-sign",
                    c.evaluationDate().atTime(12, 0).atZone(java.time.ZoneOffset.UTC),
                    List.of(draft),
                    List.of(draft)),
                ImagingMeasure.ORDER_DEFINES);
        if (direct.isTrue(ImagingMeasure.key(ImagingMeasure.COMMON, ImagingMeasure.IN_SCOPE))) {
          inScope++;
        }
      }
    }
    JsonNode m =
        new ObjectMapper()
            .readTree(TARGET.resolve("orders-out/report.json").toFile())
            .path("imaging");
    assertThat(m.path("orders").asLong()).isEqualTo(all).isGreaterThanOrEqualTo(15);
    assertThat(m.path("numerator").asLong()).isEqualTo(numerator).isGreaterThanOrEqualTo(9);
    assertThat(m.path("excludedRedFlag").asLong()).isEqualTo(flagged).isPositive();
    Map<String, Long> reportedFlags = new TreeMap<>();
    m.path("excludedRedFlagByRule")
        .fields()
        .forEachRemaining(e -> reportedFlags.put(e.getKey(), e.getValue().asLong()));
    assertThat(reportedFlags).isEqualTo(flags);
    assertThat(m.path("denominator").asLong()).isEqualTo(inScope);
    assertThat(m.path("outOfScope").asLong()).isEqualTo(all - inScope);
    assertThat(m.path("rate").asDouble())
        .isEqualTo((double) numerator / (inScope - flagged - m.path("excludedDataGap").asLong()));
    JsonNode row = null;
    for (JsonNode rule :
        new ObjectMapper()
            .readTree(TARGET.resolve("orders-out/report.json").toFile())
            .path("rules")) {
      if (rule.path("ruleId").asText().equals(imaging)) {
        row = rule;
      }
    }
    assertThat(row).isNotNull();
    assertThat(row.path("patientsWithCard").asLong()).isEqualTo(patientsWithCard.size());
    assertThat(row.path("cards").asLong()).isEqualTo(numerator);
    assertThat(result.skipped()).isFalse();
  }

  static boolean imaging(ContentTerminology terminology, Coding coding) {
    return terminology.contains(
        PatientEvaluator.IMAGING_ORDERS, coding.getSystem(), coding.getCode());
  }

  /**
   * The cards order-sign gives for a case's drafts: stated, else the expected less the info cards.
   */
  static List<String> signed(ContentCase c) {
    if (c.expectedCardsOrderSign() != null) {
      return c.expectedCardsOrderSign();
    }
    return c.expectedCards().stream()
        .filter(r -> !engine.catalog().rule(r).orElseThrow().indicator().equals("info"))
        .toList();
  }

  /** Patient id → rule ids, read back from the worklist's Parquet. */
  static Map<String, Set<String>> worklist(String output) {
    Map<String, Set<String>> out = new HashMap<>();
    for (Row row :
        LocalSpark.session()
            .read()
            .parquet(TARGET.resolve(output).resolve(Worklist.PARQUET).toString())
            .collectAsList()) {
      out.computeIfAbsent(row.getAs("patient_id"), k -> new TreeSet<>()).add(row.getAs("rule_id"));
    }
    return out;
  }

  @Test
  void theWorklistIsAlsoOneCsvFileInTheOutputFolder() throws Exception {
    Path csv = TARGET.resolve("views-out").resolve(Worklist.CSV);
    if (!Files.exists(csv)) {
      run("views", "views-out");
    }
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.get(0)).isEqualTo("patient_id,rule_id,hook,as_of,facts");
    assertThat(lines)
        .anyMatch(l -> l.startsWith("ptref-pos-21-days,pt-referral,patient-view,2026-06-15,"));
  }

  static final Set<String> SMALL =
      Set.of(
          "PtReferral/pos-21-days",
          "PtReferral/neg-20-days",
          "RedFlagInfection/pos-steroid-referenced-medication-quantity");

  static CaseExport.Written small() {
    return CaseExport.write(
        TARGET.resolve("small"),
        content,
        PatientEvaluator.Content.FHIR,
        c -> SMALL.contains(c.id()));
  }

  @Test
  void siteOverridesFromTheServicesConfigurationApply() throws Exception {
    small();
    Path config = TARGET.resolve("application.yml");
    Files.writeString(
        config,
        "cds:\n  time-zone: UTC\n  site-parameters:\n    \"[PT Referral Minimum Days]\": 28\n");
    PopulationJob.Result strict = run("small", "small-strict", "--config", config.toString());
    assertThat(strict.settings().siteParameters()).containsEntry("PT Referral Minimum Days", "28");
    assertThat(worklist("small-strict").getOrDefault("ptref-pos-21-days", Set.of()))
        .doesNotContain("pt-referral");
    PopulationJob.Result flagOnCommandLine =
        run("small", "small-cli", "--site-parameter", "PT Referral Minimum Days=21");
    assertThat(worklist("small-cli").get("ptref-pos-21-days")).contains("pt-referral");
    assertThat(flagOnCommandLine.tally().cards.get("pt-referral")).isEqualTo(1L);
    assertThat(strict.tally().cards.get("pt-referral")).isNull();
  }

  /**
   * Synthea's Bundles (and exports taken from transaction Bundles) name patients, Medications and
   * Conditions by {@code urn:uuid:<id>}: the same cases with every reference so rewritten give the
   * same cards (the referenced Medication's ingredient still counts as a steroid).
   */
  @Test
  void referencesByUrnUuidResolveWithinThePatientsGroup() throws Exception {
    CaseExport.Written small = small();
    Path urns = Files.createDirectories(TARGET.resolve("small-urns"));
    try (var files = Files.list(TARGET.resolve("small"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".ndjson")).toList()) {
        Files.writeString(urns.resolve(file.getFileName()), urnReferences(Files.readString(file)));
      }
    }
    assertThat(Files.readString(urns.resolve("MedicationRequest.ndjson")))
        .contains("\"medicationReference\":{\"reference\":\"urn:uuid:")
        .doesNotContain("Medication/");

    PopulationJob.Result result = run("small-urns", "small-urns-out");

    assertSmallCasesCards(small, "small-urns-out");
    assertThat(result.skipped()).isFalse();
  }

  /**
   * A folder of Bundles as Synthea writes them (one transaction Bundle per patient, entries' {@code
   * fullUrl} and every reference {@code urn:uuid:<id>}) gives the cases' cards: resources are
   * routed through the fullUrls, and a Medication joins the patient whose request in the Bundle
   * names it.
   */
  @Test
  void aFolderOfSyntheaStyleBundlesGivesTheCasesCards() throws Exception {
    CaseExport.Written small = small();
    Path folder = Files.createDirectories(TARGET.resolve("small-bundles"));
    ObjectMapper json = new ObjectMapper();
    var parser = PatientEvaluator.Content.FHIR.newJsonParser();
    for (ContentCase c : small.cases()) {
      var bundle =
          (ObjectNode) json.readTree(urnReferences(parser.encodeResourceToString(c.bundle())));
      bundle.put("type", "transaction");
      for (JsonNode entry : bundle.path("entry")) {
        ((ObjectNode) entry)
            .put("fullUrl", "urn:uuid:" + entry.path("resource").path("id").asText());
      }
      Files.write(folder.resolve(c.patientId() + ".json"), json.writeValueAsBytes(bundle));
    }

    PopulationJob.Result result = run("small-bundles", "small-bundles-out");

    assertThat(result.plan().files())
        .allMatch(f -> f.format() == InputPlan.Format.BUNDLE)
        .hasSize(small.patients());
    assertSmallCasesCards(small, "small-bundles-out");
    assertThat(result.skipped()).isFalse();
  }

  /** Every {@code "reference":"Type/id"} as {@code "reference":"urn:uuid:id"}. */
  static String urnReferences(String text) {
    return text.replaceAll(
        "\"reference\":\"[A-Za-z]+/([^\"/]+)\"", "\"reference\":\"urn:uuid:$1\"");
  }

  static void assertSmallCasesCards(CaseExport.Written small, String output) {
    Map<String, Set<String>> byPatient = worklist(output);
    for (ContentCase c : small.cases()) {
      assertThat(byPatient.getOrDefault(c.patientId(), Set.of()))
          .as(c.id())
          .containsExactlyInAnyOrderElementsOf(c.expectedCards());
    }
    assertThat(byPatient.get("r3-pos-referenced-ingredient")).contains("red-flag-infection");
  }

  /**
   * As of a day before the PT-referral cases' back pain began (onsets 2026-05-25 and 2026-05-26)
   * their Conditions do not count: out of scope, no PT-referral card; the third case's back pain
   * began on 2026-05-06 and still counts.
   */
  @Test
  void factsDatedAfterTheRunsDateNeverCount() {
    small();
    PopulationJob.Result onDate = run("small", "small-on-date");
    PopulationJob.Result before = run("small", "small-before", "--as-of", "2026-05-24");

    assertThat(worklist("small-on-date").get("ptref-pos-21-days")).contains("pt-referral");
    assertThat(worklist("small-before").getOrDefault("ptref-pos-21-days", Set.of()))
        .doesNotContain("pt-referral");
    assertThat(onDate.tally().inScope).isEqualTo(3);
    assertThat(before.tally().inScope).isEqualTo(1);
  }

  @Test
  void aReplicatedCohortCountsEveryReplicaUnderItsOwnId() {
    CaseExport.Written small = small();
    PopulationJob.Result once = run("small", "small-once");
    PopulationJob.Result thrice = run("small", "small-thrice", "--replicate", "3");
    assertThat(thrice.tally().patients)
        .isEqualTo(3L * small.patients())
        .isEqualTo(3 * once.tally().patients);
    once.tally()
        .cards
        .forEach((rule, n) -> assertThat(thrice.tally().cards.get(rule)).as(rule).isEqualTo(3 * n));
    assertThat(worklist("small-thrice").keySet())
        .contains(
            "r3-pos-referenced-ingredient",
            "r3-pos-referenced-ingredient-x1",
            "r3-pos-referenced-ingredient-x2");
    assertThat(worklist("small-thrice").get("r3-pos-referenced-ingredient-x2"))
        .as("the replica's Medication joined under the rewritten ids")
        .containsExactlyInAnyOrder("red-flag-infection", "red-flag-fracture");
  }
}
