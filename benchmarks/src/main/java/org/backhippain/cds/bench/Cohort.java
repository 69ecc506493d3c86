package org.backhippain.cds.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The cards a running service gives the whole Synthea cohort, to check that a change leaves them as
 * they were: for every generated patient ({@code target/synthea/fhir/*.json}, the same cohort the
 * load benchmark uses), the patient-view hook with template prefetch, and the order-sign hook with
 * the same prefetch and a draft lumbar-spine MRI (CPT 72148) whose reasonCode is low back pain
 * (SNOMED 279039007). One line per patient and hook, sorted: {@code <patient id> <service id>
 * <sorted rule ids of the cards, space-separated>} ({@code -} for none, {@code HTTP <status>} for
 * an answer that is not 200), written to {@code target/cohort-<label>.txt}.
 *
 * <p>Arguments: base URL, label (the commit's short sha). With environment {@code COHORT_BASELINE}
 * naming an earlier cohort file: prints how many patient-hooks differ from it, and the differing
 * lines; exits 0 either way.
 */
public final class Cohort {
  static final String PATIENT_VIEW = "back-hip-pain-patient-view";
  static final String ORDER_SIGN = "back-hip-pain-order-sign";

  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "http://localhost:8091";
    String label = args.length > 1 ? args[1] : "current";
    List<Bundle> bundles =
        SyntheaPatients.bySize(
            SyntheaPatients.require(Path.of("target/synthea"), 30), LoadBenchmark.FHIR);
    long t0 = System.nanoTime();
    Map<String, String> lines = new TreeMap<>();
    Map<String, Integer> cardsByRule = new TreeMap<>();
    for (Bundle bundle : bundles) {
      ObjectNode patientView = (ObjectNode) LoadBenchmark.JSON.readTree(request(bundle));
      String patientId = patientView.path("context").path("patientId").asText();
      ObjectNode orderSign = patientView.deepCopy();
      orderSign.put("hook", "order-sign");
      ((ObjectNode) orderSign.get("context")).set("draftOrders", lumbarImagingDraft(patientId));
      for (var hook : Map.of(PATIENT_VIEW, patientView, ORDER_SIGN, orderSign).entrySet()) {
        String rules = rules(base, hook.getKey(), hook.getValue(), cardsByRule);
        lines.put(patientId + " " + hook.getKey(), patientId + " " + hook.getKey() + " " + rules);
      }
    }
    Path out = Path.of("target", "cohort-" + label + ".txt");
    Files.write(out, lines.values(), StandardCharsets.UTF_8);
    System.out.printf(
        "cohort: %d patients, %d patient-hooks written to %s in %d ms; cards by rule %s%n",
        bundles.size(), lines.size(), out, (System.nanoTime() - t0) / 1_000_000, cardsByRule);

    String baseline = System.getenv("COHORT_BASELINE");
    if (baseline == null || baseline.isBlank()) {
      System.out.println("cohort: no COHORT_BASELINE to compare with");
      Targets.unchecked(
          "cohort cards unchanged", lines.size() + " patient-hooks, no baseline", "0 differ");
      return;
    }
    Map<String, String> before = new TreeMap<>();
    for (String line : Files.readAllLines(Path.of(baseline), StandardCharsets.UTF_8)) {
      String[] words = line.split(" ", 3);
      if (words.length >= 2) {
        before.put(words[0] + " " + words[1], line);
      }
    }
    TreeSet<String> keys = new TreeSet<>(before.keySet());
    keys.addAll(lines.keySet());
    List<String> differing = new ArrayList<>();
    for (String key : keys) {
      String was = before.get(key);
      String now = lines.get(key);
      if (was == null || !was.equals(now)) {
        differing.add(
            "  - "
                + (was == null ? key + " (absent)" : was)
                + "\n  + "
                + (now == null ? key + " (absent)" : now));
      }
    }
    boolean same = differing.isEmpty();
    System.out.printf(
        "cohort: %d patient-hooks, %d differ %s (against %s)%n",
        keys.size(), differing.size(), same ? "✔" : "✘", baseline);
    differing.forEach(System.out::println);
    Targets.print(
        "cohort cards unchanged (against " + Path.of(baseline).getFileName() + ")",
        differing.size() + " of " + keys.size() + " patient-hooks differ",
        "0 differ",
        same);
  }

  /** The patient-view request with template prefetch, as the load benchmark sends it. */
  static String request(Bundle bundle) throws Exception {
    return LoadBenchmark.request(bundle, false);
  }

  /** {@code context.draftOrders}: a draft lumbar-spine MRI for low back pain, authored today. */
  static JsonNode lumbarImagingDraft(String patientId) throws Exception {
    return LoadBenchmark.JSON.readTree(
        """
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
          "resourceType": "ServiceRequest", "id": "cohort-lumbar-mri", "status": "draft",
          "intent": "order", "authoredOn": "%s",
          "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72148",
            "display": "MRI lumbar spine without contrast"}]},
          "reasonCode": [{"coding": [{"system": "http://snomed.info/sct", "code": "279039007",
            "display": "Low back pain"}]}],
          "subject": {"reference": "Patient/%s"}}}]}
        """
            .formatted(LocalDate.now(ZoneOffset.UTC), patientId));
  }

  /** The sorted rule ids ({@code source.topic.code}) of the cards the service answers with. */
  static String rules(String base, String service, JsonNode body, Map<String, Integer> byRule)
      throws Exception {
    HttpResponse<String> response =
        LoadBenchmark.HTTP.send(
            HttpRequest.newBuilder(URI.create(base + "/cds-services/" + service))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      return "HTTP " + response.statusCode();
    }
    List<String> rules = new ArrayList<>();
    for (JsonNode card : LoadBenchmark.JSON.readTree(response.body()).path("cards")) {
      rules.add(card.path("source").path("topic").path("code").asText("?"));
    }
    rules.sort(null);
    rules.forEach(
        r -> byRule.merge(service.replace("back-hip-pain-", "") + ":" + r, 1, Integer::sum));
    // Duplicates are kept: one card per rule is the contract, so a rule twice is a difference too.
    return rules.isEmpty() ? "-" : String.join(" ", rules);
  }

  private Cohort() {}
}
