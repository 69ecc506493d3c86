package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Bad input of every kind gets a defined answer, never a 5xx: 415 for what is not UTF-8 JSON, 400
 * naming the field for strict-JSON and shape errors, and for FHIR values of the wrong shape the
 * cards computed on what is valid, the value named as unusable in every card's Why.
 */
@ServiceTest
class BadInputTests {
  static final String PV = "back-hip-pain-patient-view";
  static final String OS = "back-hip-pain-order-select";
  static final String JSON_UTF8 = "application/json;charset=UTF-8";

  @LocalServerPort int port;
  @Autowired TestClock clock;
  HookClient client;

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
  }

  static void assertError(HookClient.Answer answer, int status, String error, String message) {
    ErrorAnswerTests.assertError(answer, status, error, message);
  }

  static void assertField(HookClient.Answer answer, String error, String field) {
    assertError(answer, 400, error, "'" + field + "'");
    assertThat(answer.body().path("field").asText()).isEqualTo(field);
  }

  String valid() {
    return HookClient.request("patient-view", "ptref-pos-21-days").toString();
  }

  // ---- media types: 415 ---------------------------------------------------------------------

  @Test
  void multipartWithOrWithoutABoundaryIs415() {
    assertError(
        client.postRaw(PV, "multipart/form-data", "--x\r\n\r\n{}\r\n--x--"),
        415,
        "unsupported_media_type",
        "multipart");
    assertError(
        client.postRaw(PV, "multipart/form-data; boundary=x", "--x\r\n\r\n{}\r\n--x--"),
        415,
        "unsupported_media_type",
        "multipart");
    assertError(
        client.postRaw(PV + "/feedback", "multipart/mixed", "x"),
        415,
        "unsupported_media_type",
        "multipart");
  }

  @Test
  void jsonInAnotherCharsetOrAnotherMediaTypeIs415() {
    for (String type :
        new String[] {
          "application/json;charset=ISO-8859-1", "application/json; charset=\"utf-16\""
        }) {
      assertError(
          client.postBytes(PV, type, valid().getBytes(StandardCharsets.ISO_8859_1)),
          415,
          "unsupported_media_type",
          "UTF-8");
    }
    for (String type :
        new String[] {"text/plain", "application/xml", "application/x-www-form-urlencoded"}) {
      assertError(client.postRaw(PV, type, valid()), 415, "unsupported_media_type", "JSON");
    }
    assertThat(client.postRaw(PV, "application/json; charset=utf-8", valid()).status())
        .as("UTF-8 named explicitly is fine")
        .isNotEqualTo(415);
  }

  // ---- strict JSON: 400 ---------------------------------------------------------------------

  @Test
  void trailingContentAfterTheDocumentIs400() {
    for (String tail : new String[] {" xyz", " {}", "}", "\n[1]", " null"}) {
      assertError(
          client.postRaw(PV, "application/json", valid() + tail),
          400,
          "invalid_json",
          "more than one JSON document");
    }
    assertError(
        client.postRaw(PV + "/feedback", "application/json", "{\"feedback\":[]} garbage"),
        400,
        "invalid_json",
        "more than one JSON document");
  }

  @Test
  void aDuplicateKeyIs400NamingIt() {
    String body =
        "{\"hook\":\"patient-view\",\"hookInstance\":\"a\",\"context\":"
            + "{\"patientId\":\"a\",\"userId\":\"Practitioner/x\",\"patientId\":\"b\"}}";
    assertField(client.postRaw(PV, "application/json", body), "invalid_json", "context.patientId");
  }

  @Test
  void invalidUtf8Is400() {
    byte[][] sequences = {
      {(byte) 0xe9}, // Latin-1 é
      {(byte) 0xc0, (byte) 0xaf}, // overlong '/'
      {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, // an encoded surrogate
      {(byte) 0xf5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, // beyond U+10FFFF
      {(byte) 0xe2, (byte) 0x82} // truncated
    };
    String body = valid();
    int at = body.indexOf("\"hookInstance\":\"") + "\"hookInstance\":\"".length();
    for (byte[] bad : sequences) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      bytes.writeBytes(body.substring(0, at).getBytes(StandardCharsets.UTF_8));
      bytes.writeBytes(bad);
      bytes.writeBytes(body.substring(at).getBytes(StandardCharsets.UTF_8));
      assertError(
          client.postBytes(PV, "application/json", bytes.toByteArray()),
          400,
          "invalid_json",
          "not valid UTF-8");
    }
  }

  @Test
  void nestingBeyondTheLimitIs400() {
    String deep = "[".repeat(5_000) + "]".repeat(5_000);
    ObjectNode request = HookClient.request("patient-view", "p");
    String body = request.toString().replace("}}", "},\"extra\":" + deep + "}");
    assertError(client.postRaw(PV, "application/json", body), 400, "invalid_json", "nesting");
  }

  @Test
  void fieldsOfTheWrongTypeAre400NamingTheField() {
    ObjectNode request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.putObject("hookInstance").put("x", 1);
    assertField(client.post(PV, request), "invalid_json", "hookInstance");

    request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.putObject("fhirAuthorization").put("expires_in", "soon");
    assertField(client.post(PV, request), "invalid_json", "fhirAuthorization.expires_in");

    request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.put("prefetch", "everything");
    assertField(client.post(PV, request), "invalid_json", "prefetch");

    request = HookClient.request("patient-view", "ptref-pos-21-days");
    ((ObjectNode) request.get("context")).put("patientId", 42);
    assertField(client.post(PV, request), "invalid_request", "context.patientId");

    request = HookClient.request("patient-view", "p\r\nq");
    assertField(client.post(PV, request), "invalid_request", "context.patientId");

    request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.put("hookInstance", "x".repeat(129));
    assertField(client.post(PV, request), "invalid_request", "hookInstance");
  }

  @Test
  void anEmptyBodyIs400() {
    assertError(client.postRaw(PV, "application/json", ""), 400, "invalid_json", "required");
  }

  // ---- FHIR values of the wrong shape: cards on what is valid -------------------------------

  @Test
  void aDateTimeInBirthDateIsUnusableTheCardsAreComputedWithoutIt() {
    clock.set(LocalDate.parse("2026-06-15"));
    ObjectNode request =
        client.prefetched(
            HookClient.request("patient-view", "r4-pos-age-70-acute"), PV, client.fhirBase());
    assertThat(client.post(PV, request).ruleIds())
        .as("as sent: age 70 with an acute episode")
        .containsExactly("red-flag-fracture");

    ((ObjectNode) request.path("prefetch").path("patient")).put("birthDate", "1956-06-15T10:00:00");
    var answer = client.post(PV, request);
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    assertThat(answer.ruleIds())
        .as("no age: the age branch skips, the acute episode gets self-care")
        .containsExactly("self-care");
    assertThat(why(answer.card("self-care")))
        .contains("Not available from the EHR, so not considered: `Patient.birthDate` unusable");
  }

  @Test
  void aDraftWithAnUnusableDateStillGetsItsCardAndTheWhyNamesTheElement() {
    clock.set(LocalDate.parse("2026-06-15"));
    ObjectNode request =
        client.prefetched(HookClient.request("order-select", "r7-pos-41d"), OS, client.fhirBase());
    HookClient.mriDrafted(request, "yesterday");
    ((ObjectNode)
            request.path("prefetch").path("conditions").path("entry").path(0).path("resource"))
        .put("recordedDate", "2026-02-30");
    var answer = client.post(OS, request);
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    assertThat(answer.ruleIds()).containsExactly("imaging-not-indicated");
    assertThat(why(answer.card("imaging-not-indicated")))
        .contains("`ServiceRequest.authoredOn` unusable")
        .contains("`Condition.recordedDate` unusable");
  }

  /** A searchset of {@code n} copies of a resource (ids numbered). */
  static ObjectNode searchset(int n, String resource) {
    ObjectNode bundle = HookClient.JSON.createObjectNode();
    bundle.put("resourceType", "Bundle").put("type", "searchset");
    var entries = bundle.putArray("entry");
    for (int i = 0; i < n; i++) {
      ObjectNode r = (ObjectNode) HookClient.json(resource);
      r.put("id", r.path("id").asText() + "-" + i);
      entries.addObject().set("resource", r);
    }
    return bundle;
  }

  /**
   * More than {@code cds.max-bundle-entries} (1,000) resources in one key: the key is not read (the
   * rules' cost grows faster than linearly with what they match) — cards without it, the Why naming
   * it; 412 for a required key; 400 for that many draft orders.
   */
  @Test
  void aKeyOverTheEntryCapIsUnavailableAndSoManyDraftsAre400() {
    clock.set(LocalDate.parse("2026-06-15"));
    ObjectNode request =
        client.prefetched(
            HookClient.request("patient-view", "ptref-pos-21-days"), PV, client.fhirBase());
    ObjectNode prefetch = (ObjectNode) request.get("prefetch");
    // Procedures no rule can read (no code) are skipped before parsing: not over the cap.
    prefetch.set(
        "procedures",
        searchset(
            1_001,
            "{\"resourceType\":\"Procedure\",\"id\":\"x\",\"status\":\"completed\","
                + "\"subject\":{\"reference\":\"Patient/ptref-pos-21-days\"}}"));
    assertThat(client.post(PV, request).ruleIds())
        .containsExactlyInAnyOrder("pt-referral", "self-care");
    // 1,001 physical-therapy procedures (started before the episode): over the cap.
    prefetch.set(
        "procedures",
        searchset(
            1_001,
            "{\"resourceType\":\"Procedure\",\"id\":\"x\",\"status\":\"completed\","
                + "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
                + "\"code\":\"183326003\"}]},\"performedDateTime\":\"2020-01-01\","
                + "\"subject\":{\"reference\":\"Patient/ptref-pos-21-days\"}}"));
    var answer = client.post(PV, request);
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    assertThat(answer.ruleIds())
        .as("PT referral needs procedures; self-care does not")
        .containsExactly("self-care");
    assertThat(why(answer.card("self-care")))
        .contains("Not available from the EHR, so not considered: procedures");

    prefetch.set(
        "conditions",
        searchset(
            1_001,
            "{\"resourceType\":\"Condition\",\"id\":\"c\","
                + "\"subject\":{\"reference\":\"Patient/ptref-pos-21-days\"}}"));
    assertError(client.post(PV, request), 412, "prefetch_unavailable", "1001 entries");

    ObjectNode order = HookClient.request("order-select", "r7-pos-41d");
    ((ObjectNode) order.get("context"))
        .set(
            "draftOrders",
            searchset(1_001, "{\"resourceType\":\"ServiceRequest\",\"id\":\"d\"}")
                .put("type", "collection"));
    HookClient.Answer drafts = client.post(OS, order);
    assertError(drafts, 400, "invalid_request", "1001 entries");
    assertThat(drafts.body().path("field").asText()).isEqualTo("context.draftOrders");
  }

  static String why(JsonNode card) {
    String detail = card.path("detail").asText();
    return detail.substring(detail.indexOf("**Why**"));
  }

  // ---- error bodies written outside Spring MVC ----------------------------------------------

  @Test
  void aFilterOrSecurityAnswerIsJsonInUtf8() {
    var unauthenticated = client.get(client.base() + "/actuator/metrics");
    assertThat(unauthenticated.status()).isEqualTo(401);
    assertThat(unauthenticated.header("Content-Type")).isEqualTo(JSON_UTF8);
    assertThat(unauthenticated.body().path("error").asText()).isEqualTo("unauthorized");
  }
}
