package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backhippain.cds.service.HookClient.only;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Feedback that is kept and cards that learn to stay quiet (CDS Hooks §Feedback). Each test uses a
 * fresh patient id over a content case's data, so snoozes never leak into other suites.
 */
@ServiceTest
class FeedbackTests {
  static final String PV = "back-hip-pain-patient-view";
  static final String REASONS = ContentPackage.OVERRIDE_REASON_SYSTEM;

  @LocalServerPort int port;
  @Autowired ContentPackage content;
  @Autowired FhirContext fhir;
  @Autowired TestClock clock;
  HookClient client;

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
  }

  /**
   * A patient-view request with the case's data prefetched, moved to a new patient id (the Patient
   * and every reference to it), so that each test's snoozes are its own.
   */
  ObjectNode hookFor(String caseId, String patientId) {
    ContentCase c =
        ContentCase.all(content, fhir).stream()
            .filter(x -> x.id().equals(caseId))
            .findFirst()
            .orElseThrow();
    clock.set(c.evaluationDate());
    ObjectNode request =
        client.prefetched(HookClient.request("patient-view", c.patientId()), PV, client.fhirBase());
    try {
      return (ObjectNode)
          HookClient.JSON.readTree(request.toString().replace(c.patientId(), patientId));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String newPatient() {
    return "fb-" + UUID.randomUUID();
  }

  HookClient.Answer feedback(String service, JsonNode... entries) {
    ObjectNode body = HookClient.JSON.createObjectNode();
    ArrayNode list = body.putArray("feedback");
    for (JsonNode e : entries) {
      list.add(e);
    }
    return client.post(service + "/feedback", body);
  }

  static ObjectNode overridden(JsonNode card, String reason) {
    ObjectNode entry = HookClient.JSON.createObjectNode();
    entry.put("card", card.path("uuid").asText());
    entry.put("outcome", "overridden");
    if (reason != null) {
      ObjectNode r = entry.putObject("overrideReason").putObject("reason");
      r.put("code", reason);
      r.put("system", REASONS);
    }
    entry.put("outcomeTimestamp", "2026-06-15T10:15:00Z");
    return entry;
  }

  static ObjectNode accepted(JsonNode card) {
    ObjectNode entry = HookClient.JSON.createObjectNode();
    entry.put("card", card.path("uuid").asText());
    entry.put("outcome", "accepted");
    entry
        .putArray("acceptedSuggestions")
        .addObject()
        .put("id", only(card.path("suggestions")).path("uuid").asText());
    entry.put("outcomeTimestamp", "2026-06-15T10:15:00-05:00");
    return entry;
  }

  @Autowired org.springframework.jdbc.core.JdbcTemplate jdbc;
  @Autowired org.backhippain.cds.service.feedback.CardLog cardLog;

  @Test
  void theStartUpRehearsalOfTheFeedbackStoreLeavesNoTrace() throws Exception {
    var answer = client.post(PV, hookFor("PtReferral/pos-21-days", newPatient()));
    var card =
        HookClient.JSON.treeToValue(
            answer.card("pt-referral"), org.backhippain.cds.service.cards.Card.class);
    Integer before = jdbc.queryForObject("SELECT COUNT(*) FROM issued_card", Integer.class);
    boolean rehearsed =
        cardLog.rehearse(
            PV,
            java.util.List.of(
                new org.backhippain.cds.service.feedback.CardLog.Candidate(
                    card, java.util.Set.of("fact"))));
    assertThat(rehearsed).isTrue();
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM issued_card", Integer.class))
        .isEqualTo(before);
  }

  @Test
  void anOverriddenCardIsSnoozedForThatPatientAndStillShownForAnother() {
    String patient = newPatient();
    ObjectNode request = hookFor("RedFlagMalignancy/pos-weight-drop-5-0-percent", patient);
    JsonNode card = client.post(PV, request).card("red-flag-malignancy");
    assertThat(feedback(PV, overridden(card, "already-addressed")).status()).isEqualTo(200);

    assertThat(client.post(PV, request).ruleIds()).doesNotContain("red-flag-malignancy");
    ObjectNode other = hookFor("RedFlagMalignancy/pos-weight-drop-5-0-percent", newPatient());
    assertThat(client.post(PV, other).ruleIds()).contains("red-flag-malignancy");
  }

  @Test
  void aNewTriggeringFactEndsTheSnooze() {
    String patient = newPatient();
    ObjectNode request = hookFor("RedFlagMalignancy/pos-weight-drop-5-0-percent", patient);
    JsonNode card = client.post(PV, request).card("red-flag-malignancy");
    feedback(PV, overridden(card, "not-applicable"));
    assertThat(client.post(PV, request).ruleIds()).doesNotContain("red-flag-malignancy");

    ((ArrayNode) request.path("prefetch").path("conditions").withArray("entry"))
        .addObject()
        .set(
            "resource",
            HookClient.json(
                "{\"resourceType\":\"Condition\",\"id\":\"new-wl\",\"verificationStatus\":{\"coding\":[{\"system\":"
                    + "\"http://terminology.hl7.org/CodeSystem/condition-ver-status\",\"code\":\"confirmed\"}]},"
                    + "\"code\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\",\"code\":\"R63.4\","
                    + "\"display\":\"Abnormal weight loss\"}]},\"onsetDateTime\":\"2026-06-10\"}"));
    assertThat(client.post(PV, request).ruleIds()).contains("red-flag-malignancy");
  }

  @Test
  void aSnoozeOnASteroidTriggeredCardHoldsTheNextDayAndAfterAMonthlyRefill() {
    String patient = newPatient();
    ObjectNode request = hookFor("RedFlagInfection/pos-steroid-course-still-running", patient);
    JsonNode card = client.post(PV, request).card("red-flag-infection");
    assertThat(card.path("detail").asText()).contains("101 of the last 365 days covered");
    assertThat(feedback(PV, overridden(card, "already-addressed")).status()).isEqualTo(200);

    clock.set(java.time.LocalDate.parse("2026-06-16"));
    var nextDay = client.post(PV, request);
    assertThat(nextDay.ruleIds())
        .doesNotContain("red-flag-infection")
        .contains("red-flag-fracture");
    assertThat(nextDay.card("red-flag-fracture").path("detail").asText())
        .as("the same criterion, one more day covered")
        .contains("102 of the last 365 days covered");

    ((ArrayNode) request.path("prefetch").path("medications").withArray("entry"))
        .addObject()
        .set(
            "resource",
            HookClient.json(
                "{\"resourceType\":\"MedicationRequest\",\"id\":\"refill-"
                    + patient
                    + "\",\"status\":\"active\",\"intent\":\"order\",\"subject\":{\"reference\":\"Patient/"
                    + patient
                    + "\"},\"authoredOn\":\"2026-06-16\",\"medicationCodeableConcept\":{\"coding\":[{\"system\":"
                    + "\"http://www.nlm.nih.gov/research/umls/rxnorm\",\"code\":\"312617\"}]},"
                    + "\"dispenseRequest\":{\"expectedSupplyDuration\":{\"value\":30,\"code\":\"d\"}}}"));
    var afterRefill = client.post(PV, request);
    assertThat(afterRefill.ruleIds()).doesNotContain("red-flag-infection");
    assertThat(afterRefill.card("red-flag-fracture").path("detail").asText())
        .contains("by 4 requests, the latest authored 2026-06-16");
  }

  @Test
  void theCriticalCardIsNeverSnoozed() {
    ObjectNode request = hookFor("CaudaEquina/pos-urinary-retention-30-days", newPatient());
    JsonNode card = client.post(PV, request).card("cauda-equina");
    assertThat(feedback(PV, overridden(card, "clinical-judgment")).status()).isEqualTo(200);
    assertThat(client.post(PV, request).ruleIds()).contains("cauda-equina");
  }

  @Test
  void acceptingThePtReferralSilencesItFor90Days() {
    ObjectNode request = hookFor("PtReferral/pos-21-days", newPatient());
    JsonNode card = client.post(PV, request).card("pt-referral");
    assertThat(feedback(PV, accepted(card)).status()).isEqualTo(200);
    var again = client.post(PV, request);
    assertThat(again.ruleIds()).doesNotContain("pt-referral").contains("self-care");
    clock.set(java.time.LocalDate.parse("2026-09-14"));
    assertThat(client.post(PV, request).ruleIds()).as("after 91 days").contains("pt-referral");
  }

  @Test
  void aSnoozedRedFlagStillSuppressesSelfCare() {
    ObjectNode request = hookFor("RedFlagFracture/pos-age-70-acute-episode", newPatient());
    JsonNode card = client.post(PV, request).card("red-flag-fracture");
    feedback(PV, overridden(card, "already-addressed"));
    assertThat(client.post(PV, request).ruleIds()).doesNotContain("red-flag-fracture", "self-care");
  }

  @Test
  void anInvalidBatchIsRefusedWholeWithPerEntryErrors() {
    ObjectNode request = hookFor("RedFlagMalignancy/pos-weight-drop-5-0-percent", newPatient());
    JsonNode card = client.post(PV, request).card("red-flag-malignancy");
    ObjectNode valid = overridden(card, "not-applicable");
    ObjectNode unknownCard = overridden(card, null).put("card", UUID.randomUUID().toString());
    ObjectNode badReason = overridden(card, "because");
    ObjectNode badTimestamp = overridden(card, null).put("outcomeTimestamp", "yesterday");
    ObjectNode badOutcome = overridden(card, null).put("outcome", "ignored");
    ObjectNode foreignSuggestion = overridden(card, null).put("outcome", "accepted");
    foreignSuggestion
        .putArray("acceptedSuggestions")
        .addObject()
        .put("id", UUID.randomUUID().toString());
    var answer =
        feedback(PV, valid, unknownCard, badReason, badTimestamp, badOutcome, foreignSuggestion);
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.body().path("error").asText()).isEqualTo("invalid_feedback");
    assertThat(answer.body().path("entries"))
        .extracting(e -> e.path("index").asInt())
        .containsExactly(1, 2, 3, 4, 5);
    assertThat(answer.raw())
        .contains("was not issued by this service")
        .contains("is not one of the card's")
        .contains("RFC 3339")
        .contains("accepted or overridden");
    assertThat(client.post(PV, request).ruleIds())
        .as("nothing stored")
        .contains("red-flag-malignancy");
  }

  @Test
  void feedbackOnAnotherServicesCardIsRefused() {
    JsonNode card =
        client.post(PV, hookFor("PtReferral/pos-21-days", newPatient())).card("pt-referral");
    var answer = feedback("back-hip-pain-order-select", overridden(card, null));
    assertThat(answer.status()).isEqualTo(400);
    assertThat(feedback("no-such-service", overridden(card, null)).status()).isEqualTo(404);
  }

  @Test
  void aRepeatedEntryIsStoredOnceAndAnalyticsCountIt() throws Exception {
    String patient = newPatient();
    ObjectNode request = hookFor("SmokingCessation/pos-latest-status-current-smoker", patient);
    JsonNode card = client.post(PV, request).card("smoking-cessation");
    ObjectNode entry = overridden(card, null);
    long before = analytics().path("smoking-cessation").path("overridden").asLong();
    assertThat(feedback(PV, entry).status()).isEqualTo(200);
    assertThat(feedback(PV, entry).status()).isEqualTo(200);
    client.post(PV, request);
    JsonNode counts = analytics().path("smoking-cessation");
    assertThat(counts.path("overridden").asLong()).isEqualTo(before + 1);
    assertThat(counts.path("overriddenByReason").path("none").asLong()).isPositive();
    assertThat(counts.path("shown").asLong()).isPositive();
    assertThat(counts.path("snoozed").asLong()).isPositive();
  }

  @Test
  void analyticsNeedsTheOperatorCredentialNotAJwt() throws Exception {
    assertThat(analyticsAs(null).statusCode()).isEqualTo(401);
    assertThat(analyticsAs("operator:nope").statusCode()).isEqualTo(401);
  }

  HttpResponse<String> analyticsAs(String credentials) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(client.base() + "/cds-services/analytics"));
    if (credentials != null) {
      request.header(
          "Authorization",
          "Basic "
              + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
    }
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Rule id → counts, read as the operator. */
  JsonNode analytics() throws Exception {
    var response = analyticsAs("operator:operator-secret");
    assertThat(response.statusCode()).isEqualTo(200);
    ObjectNode byRule = HookClient.JSON.createObjectNode();
    HookClient.json(response.body())
        .path("rules")
        .forEach(r -> byRule.set(r.path("ruleId").asText(), r));
    return byRule;
  }

  // ---- floods: a batch has a maximum, and a burst of batches does not starve other feedback ----

  /** {@code count} entries overriding one card, each at its own time (so each is stored). */
  static ObjectNode batch(JsonNode card, int count) {
    ObjectNode body = HookClient.JSON.createObjectNode();
    ArrayNode list = body.putArray("feedback");
    for (int i = 0; i < count; i++) {
      ObjectNode entry = overridden(card, null);
      entry.put(
          "outcomeTimestamp",
          java.time.Instant.parse("2026-06-15T10:15:00Z").plusMillis(i).toString());
      list.add(entry);
    }
    return body;
  }

  JsonNode smokingCard() {
    return client
        .post(PV, hookFor("SmokingCessation/pos-latest-status-current-smoker", newPatient()))
        .card("smoking-cessation");
  }

  Integer storedFor(JsonNode card) {
    return jdbc.queryForObject(
        "SELECT COUNT(*) FROM feedback WHERE card_uuid = ?",
        Integer.class,
        card.path("uuid").asText());
  }

  @Test
  void aBatchOverTheMaximumIs413BeforeAnyStorageWorkWhileOtherFeedbackIsStored() throws Exception {
    JsonNode flooded = smokingCard();
    ObjectNode huge = batch(flooded, 10_000);
    List<JsonNode> singles = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      singles.add(smokingCard());
    }
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<HookClient.Answer> refused = pool.submit(() -> client.post(PV + "/feedback", huge));
      List<HookClient.Answer> answers = new ArrayList<>();
      for (JsonNode card : singles) {
        answers.add(feedback(PV, overridden(card, null)));
      }
      HookClient.Answer tooMany = refused.get(60, TimeUnit.SECONDS);
      assertThat(tooMany.status()).as(tooMany.raw()).isEqualTo(413);
      assertThat(tooMany.body().path("error").asText()).isEqualTo("payload_too_large");
      assertThat(tooMany.body().path("field").asText()).isEqualTo("feedback");
      assertThat(tooMany.body().path("message").asText())
          .contains("at most 100 entries (this one 10000)");
      assertThat(storedFor(flooded)).as("nothing of the refused batch").isZero();
      for (HookClient.Answer answer : answers) {
        assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
        assertThat(answer.millis()).as("a single entry beside the flood").isLessThan(5_000);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(client.post(PV + "/feedback", batch(flooded, 100)).status())
        .as("the maximum itself is accepted")
        .isEqualTo(200);
    assertThat(storedFor(flooded)).isEqualTo(100);
  }

  /**
   * Ten batches of the maximum at once, and single entries beside them: every answer 200, every
   * entry stored, each single entry within a liveness bound (the old store held a batch's
   * connection for its whole length and answered the others 503).
   */
  @Test
  void aBurstOfFullBatchesDoesNotStarveSingleEntries() throws Exception {
    List<JsonNode> batchCards = new ArrayList<>();
    List<JsonNode> singleCards = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      batchCards.add(smokingCard());
      singleCards.add(smokingCard());
    }
    ExecutorService pool = Executors.newFixedThreadPool(10);
    try {
      List<Future<HookClient.Answer>> batches = new ArrayList<>();
      for (JsonNode card : batchCards) {
        ObjectNode body = batch(card, 100);
        batches.add(pool.submit(() -> client.post(PV + "/feedback", body)));
      }
      List<HookClient.Answer> singles = new ArrayList<>();
      for (JsonNode card : singleCards) {
        singles.add(feedback(PV, overridden(card, null)));
      }
      for (Future<HookClient.Answer> answer : batches) {
        HookClient.Answer batch = answer.get(60, TimeUnit.SECONDS);
        assertThat(batch.status()).as(batch.raw()).isEqualTo(200);
      }
      for (HookClient.Answer single : singles) {
        assertThat(single.status()).as(single.raw()).isEqualTo(200);
        assertThat(single.millis()).as("a single entry during the burst").isLessThan(5_000);
      }
    } finally {
      pool.shutdownNow();
    }
    for (JsonNode card : batchCards) {
      assertThat(storedFor(card)).isEqualTo(100);
    }
    for (JsonNode card : singleCards) {
      assertThat(storedFor(card)).isEqualTo(1);
    }
  }
}
