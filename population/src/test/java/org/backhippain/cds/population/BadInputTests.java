package org.backhippain.cds.population;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.backhippain.cds.cql.ContentCase;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * Bad input never stops a run: malformed lines, unknown types, resources without a patient or of a
 * patient not in the export, a resource HAPI cannot read, a Bundle that is not one, a file the
 * manifest names but that is missing — each counted and reported by file and line, the rest
 * evaluated, and the run says something was skipped (exit code 2).
 */
class BadInputTests {
  static final Path DIR = PopulationRunTests.TARGET.resolve("bad-input");

  @Test
  void badLinesAreReportedByFileAndLineAndTheRestIsEvaluated() throws Exception {
    var content = PatientEvaluator.Content.get();
    var fhir = PatientEvaluator.Content.FHIR;
    IParser json = fhir.newJsonParser();
    ContentCase c =
        ContentCase.all(content, fhir).stream()
            .filter(x -> x.id().equals("PtReferral/pos-21-days"))
            .findFirst()
            .orElseThrow();
    Map<String, List<String>> byType = new HashMap<>();
    for (var e : c.bundle().getEntry()) {
      Resource r = e.getResource();
      byType
          .computeIfAbsent(r.fhirType(), t -> new ArrayList<>())
          .add(json.encodeResourceToString(r));
    }
    Files.createDirectories(DIR);
    Files.write(
        DIR.resolve("Patient.ndjson"),
        List.of(
            byType.get("Patient").get(0),
            "{\"resourceType\":\"Patient\",\"id\":",
            "",
            "{\"resourceType\":\"Foo\",\"id\":\"x\"}",
            "{\"id\":\"y\"}",
            "{\"resourceType\":\"Patient\",\"id\":\"no-conditions\",\"gender\":\"male\"}"));
    List<String> conditions = new ArrayList<>(byType.get("Condition"));
    int first = conditions.size();
    conditions.add("{\"resourceType\":\"Condition\",\"id\":\"orphan\",\"code\":{\"text\":\"x\"}}");
    conditions.add(
        "{\"resourceType\":\"Condition\",\"id\":\"ghost-c\",\"subject\":{\"reference\":\"Patient/ghost\"}}");
    conditions.add(
        "{\"resourceType\":\"Condition\",\"id\":\"bad-date\",\"subject\":{\"reference\":\"Patient/"
            + c.patientId()
            + "\"},\"onsetDateTime\":\"not-a-date\"}");
    try (OutputStream out =
        new GZIPOutputStream(Files.newOutputStream(DIR.resolve("Condition.ndjson.gz")))) {
      out.write((String.join("\n", conditions) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Files.writeString(DIR.resolve("Claim.ndjson"), "{\"resourceType\":\"Claim\",\"id\":\"c\"}\n");
    Files.writeString(
        DIR.resolve("not-a-bundle.json"), "{\"resourceType\":\"Patient\",\"id\":\"p\"}");
    // Synthea writes its $import request beside the NDJSON files: not data, not a problem.
    Files.writeString(
        DIR.resolve("parameters.json"),
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"inputFormat\","
            + "\"valueString\":\"application/fhir+ndjson\"}]}");
    Files.writeString(
        DIR.resolve("manifest.json"),
        "{\"transactionTime\":\"2026-06-15T00:00:00Z\",\"request\":\"https://ehr.example/fhir/$export\","
            + "\"output\":[{\"type\":\"Patient\",\"url\":\"https://ehr.example/files/Patient.ndjson\"},"
            + "{\"type\":\"Procedure\",\"url\":\"https://ehr.example/files/Procedure.ndjson\"}]}");

    PopulationJob.Result result = PopulationRunTests.run("bad-input", "bad-input-out");

    assertThat(result.skipped()).as("exit code 2").isTrue();
    assertThat(result.tally().patients).isEqualTo(2);
    assertThat(result.tally().unknownPatients).isEqualTo(1);
    assertThat(result.tally().unknownPatientResources).containsEntry("Condition", 1L);
    assertThat(PopulationRunTests.worklist("bad-input-out").get(c.patientId()))
        .containsExactlyInAnyOrderElementsOf(c.expectedCards());

    JsonNode report =
        new ObjectMapper()
            .readTree(PopulationRunTests.TARGET.resolve("bad-input-out/report.json").toFile());
    Map<String, String> problems = new HashMap<>();
    for (JsonNode p : report.path("problems")) {
      problems.put(
          p.path("file").asText() + ": " + p.path("kind").asText(), p.path("lines").toString());
    }
    assertThat(problems)
        .containsEntry("Patient.ndjson: " + InputLog.MALFORMED, "[2]")
        .containsEntry("Patient.ndjson: " + InputLog.UNKNOWN_TYPE, "[4]")
        .containsEntry("Patient.ndjson: " + InputLog.NO_TYPE, "[5]")
        .containsEntry("Condition.ndjson.gz: " + InputLog.NO_PATIENT, "[" + (first + 1) + "]")
        .containsEntry("Condition.ndjson.gz: " + InputLog.NOT_FHIR, "[" + (first + 3) + "]")
        .containsEntry("not-a-bundle.json: " + InputLog.NOT_A_BUNDLE, "[1]")
        .containsEntry("https://ehr.example/files/Procedure.ndjson: missing file", "[]");
    assertThat(report.path("input").path("filesNotRead").path("Claim").asInt()).isEqualTo(1);
    assertThat(report.path("input").path("filesNotRead").path("Parameters").asInt()).isEqualTo(1);
    assertThat(problems.keySet()).noneMatch(k -> k.startsWith("parameters.json"));
    String html = Files.readString(PopulationRunTests.TARGET.resolve("bad-input-out/report.html"));
    assertThat(html).contains("Some input was skipped").doesNotContain("not-a-date");
  }
}
