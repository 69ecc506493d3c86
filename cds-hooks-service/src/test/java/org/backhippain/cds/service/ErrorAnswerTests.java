package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** Bad requests get a defined status and a JSON error body, never a stack trace. */
@ServiceTest
class ErrorAnswerTests {
  static final String PV = "back-hip-pain-patient-view";
  static final String OS = "back-hip-pain-order-select";

  @LocalServerPort int port;
  HookClient client;

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
  }

  /** The status, the JSON error body in UTF-8, and nothing of the service's insides. */
  static void assertError(HookClient.Answer answer, int status, String error, String message) {
    assertThat(answer.status()).as(answer.raw()).isEqualTo(status);
    assertThat(answer.header("Content-Type")).isEqualTo("application/json;charset=UTF-8");
    assertThat(answer.body().path("status").asInt()).isEqualTo(status);
    assertThat(answer.body().path("error").asText()).isEqualTo(error);
    assertThat(answer.body().path("message").asText()).contains(message);
    assertThat(answer.raw())
        .doesNotContain("Exception")
        .doesNotContain("com.fasterxml")
        .doesNotContain("org.backhippain")
        .doesNotContain("\tat ");
  }

  @Test
  void unknownServiceIs404() {
    assertError(
        client.post("no-such-service", HookClient.request("patient-view", "p")),
        404,
        "not_found",
        "no-such-service");
  }

  @Test
  void malformedJsonIs400() {
    assertError(
        client.postRaw(PV, "application/json", "{\"hook\": \"patient-view\", "),
        400,
        "invalid_json",
        "not valid JSON");
  }

  @Test
  void wrongHookForTheServiceIs400() {
    assertError(
        client.post(PV, HookClient.request("order-sign", "p")),
        400,
        "invalid_request",
        "order-sign");
  }

  @Test
  void missingHookInstanceIs400() {
    ObjectNode request = HookClient.request("patient-view", "p");
    request.remove("hookInstance");
    assertError(client.post(PV, request), 400, "invalid_request", "hookInstance");
  }

  @Test
  void missingHookIs400() {
    ObjectNode request = HookClient.request("patient-view", "p");
    request.remove("hook");
    assertError(client.post(PV, request), 400, "invalid_request", "'hook'");
  }

  @Test
  void missingPatientIdIs400() {
    ObjectNode request = HookClient.request("patient-view", "p");
    ((ObjectNode) request.get("context")).remove("patientId");
    assertError(client.post(PV, request), 400, "invalid_request", "patientId");
  }

  @Test
  void missingContextIs400() {
    ObjectNode request = HookClient.request("patient-view", "p");
    request.remove("context");
    assertError(client.post(PV, request), 400, "invalid_request", "context");
  }

  @Test
  void draftOrdersThatIsNotABundleIs400() {
    ObjectNode request = HookClient.request("order-select", "p");
    ((ObjectNode) request.get("context")).putObject("draftOrders").put("resourceType", "Patient");
    assertError(client.post(OS, request), 400, "invalid_request", "draftOrders");
  }

  @Test
  void wrongContentTypeIs415() {
    assertError(client.postRaw(PV, "text/plain", "hello"), 415, "unsupported_media_type", "JSON");
  }

  @Test
  void noPrefetchAndNoFhirServerIs412() {
    assertError(
        client.post(PV, HookClient.request("patient-view", "ptref-pos-21-days")),
        412,
        "prefetch_unavailable",
        "patient");
  }

  @Test
  void patientNullIs412() {
    ObjectNode request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.putObject("prefetch").putNull("patient");
    request.put("fhirServer", client.fhirBase());
    assertError(client.post(PV, request), 412, "prefetch_unavailable", "patient");
  }

  @Test
  void aPrefetchedPatientOtherThanTheContextPatientIs412WithoutAServer() {
    ObjectNode request =
        client.prefetched(
            HookClient.request("patient-view", "ptref-pos-21-days"), PV, client.fhirBase());
    ((ObjectNode) request.get("context")).put("patientId", "someone-else");
    assertError(client.post(PV, request), 412, "prefetch_unavailable", "another patient");
  }

  @Test
  void unknownPatientOnTheFhirServerIs412() {
    ObjectNode request = HookClient.request("patient-view", "nobody-by-this-id");
    request.put("fhirServer", client.fhirBase());
    assertError(client.post(PV, request), 412, "prefetch_unavailable", "HTTP 404");
  }

  @Test
  void orderHookWithoutRelevantDraftsAnswersEmptyWithoutReadingData() {
    ObjectNode request = HookClient.request("order-select", "ptref-pos-21-days");
    ((ObjectNode) request.get("context"))
        .putObject("draftOrders")
        .put("resourceType", "Bundle")
        .put("type", "collection");
    var answer = client.post(OS, request);
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.raw()).isEqualTo("{\"cards\":[]}");
  }
}
