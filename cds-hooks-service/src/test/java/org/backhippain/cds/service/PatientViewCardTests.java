package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backhippain.cds.service.HookClient.only;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.LocalDate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The pt-referral card as the EHR receives it, checked against the card contract (spec §3). */
@ServiceTest
class PatientViewCardTests {
  static final String SERVICE = "back-hip-pain-patient-view";
  static final String RULES = "https://back-hip-pain-cds.org/fhir/CodeSystem/rules";

  @LocalServerPort int port;
  @Autowired TestClock clock;
  HookClient client;

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
    clock.set(LocalDate.parse("2026-06-15"));
  }

  JsonNode ptReferralCard() {
    var request = HookClient.request("patient-view", "ptref-pos-21-days");
    var answer = client.post(SERVICE, client.prefetched(request, SERVICE, client.fhirBase()));
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.ruleIds()).containsExactlyInAnyOrder("pt-referral", "self-care");
    return answer.card("pt-referral");
  }

  @Test
  void cardCarriesTheContractFields() {
    JsonNode card = ptReferralCard();
    assertThat(card.path("uuid").asText()).matches("[0-9a-f-]{36}");
    assertThat(card.path("indicator").asText()).isEqualTo("info");
    assertThat(card.path("summary").asText()).hasSizeLessThan(140).contains("21 days");
    assertThat(card.path("source").path("label").asText()).isEqualTo("Back & Hip Pain CDS");
    assertThat(card.path("source").path("url").asText())
        .isEqualTo(client.base() + "/review/pt-referral");
    assertThat(card.path("source").path("topic").path("system").asText()).isEqualTo(RULES);
    assertThat(card.has("overrideReasons")).as("info cards carry no override reasons").isFalse();
  }

  @Test
  void detailEndsWithAWhySectionNamingTheFactsAndDuration() {
    String detail = ptReferralCard().path("detail").asText();
    String why = detail.substring(detail.indexOf("**Why**"));
    assertThat(why)
        .contains("Condition: Low back pain (2026-05-25, 21 days ago)")
        .contains("Episode: acute, 21 days since onset")
        .contains("Sources:")
        .contains("ACP guideline 2017");
  }

  @Test
  void suggestionCreatesADraftPtReferralForThisPatient() {
    JsonNode card = ptReferralCard();
    assertThat(card.path("selectionBehavior").asText()).isEqualTo("at-most-one");
    JsonNode suggestion = only(card.path("suggestions"));
    assertThat(suggestion.path("uuid").asText()).matches("[0-9a-f-]{36}");
    assertThat(suggestion.path("isRecommended").asBoolean()).isTrue();
    JsonNode action = only(suggestion.path("actions"));
    assertThat(action.path("type").asText()).isEqualTo("create");
    JsonNode resource = action.path("resource");
    assertThat(resource.path("resourceType").asText()).isEqualTo("ServiceRequest");
    assertThat(resource.path("status").asText()).isEqualTo("draft");
    assertThat(resource.path("intent").asText()).isEqualTo("order");
    assertThat(resource.path("subject").path("reference").asText())
        .isEqualTo("Patient/ptref-pos-21-days");
    assertThat(only(resource.path("code").path("coding")).path("system").asText())
        .isEqualTo("http://snomed.info/sct");
    assertThat(only(resource.path("code").path("coding")).path("code").asText())
        .isEqualTo("308447003");
  }

  @Test
  void uuidsAreFreshOnEveryAnswer() {
    assertThat(ptReferralCard().path("uuid")).isNotEqualTo(ptReferralCard().path("uuid"));
  }

  @Test
  void anUnavailableOptionalKeyIsNamedInTheWhy() {
    var answer = client.post(SERVICE, prefetchedWithout("observations"));
    assertThat(answer.card("pt-referral").path("detail").asText())
        .contains("Not available from the EHR, so not considered: observations");
  }

  @Test
  void withoutTheProceduresThereIsNoPtReferralCard() {
    var answer = client.post(SERVICE, prefetchedWithout("procedures"));
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.ruleIds()).doesNotContain("pt-referral");
  }

  /** Full prefetch minus one key, and no fhirServer to fetch it from. */
  private JsonNode prefetchedWithout(String key) {
    var request = HookClient.request("patient-view", "ptref-pos-21-days");
    client.prefetched(request, SERVICE, client.fhirBase());
    ((com.fasterxml.jackson.databind.node.ObjectNode) request.path("prefetch")).remove(key);
    return request;
  }

  JsonNode card(String patientId, String ruleId) {
    var request = HookClient.request("patient-view", patientId);
    request.put("fhirServer", client.fhirBase());
    return client.post(SERVICE, request).card(ruleId);
  }

  @Test
  void ptReferralSaysHowThePatientReachesPtAndWarnsAboutStretches() {
    String detail = card("r8-pos-hmo-radicular", "pt-referral").path("detail").asText();
    assertThat(detail)
        .contains("referral from the primary care provider")
        .contains("forward-bending stretches")
        .doesNotContain("{{");
  }

  @Test
  void withCoverageUnavailableThePtCardSaysCheckThePlan() {
    var request = HookClient.request("patient-view", "r8-pos-coverage-unavailable");
    client.prefetched(request, SERVICE, client.fhirBase());
    ((com.fasterxml.jackson.databind.node.ObjectNode) request.path("prefetch")).remove("coverage");
    String detail = client.post(SERVICE, request).card("pt-referral").path("detail").asText();
    assertThat(detail)
        .contains("check the plan's referral rules")
        .contains("Not available from the EHR, so not considered: coverage");
  }

  @Test
  void selfCareLinksThePatientHandout() {
    JsonNode link = only(card("r9-pos-5d", "self-care").path("links"));
    assertThat(link.path("url").asText()).isEqualTo(client.base() + "/handouts/self-care");
    assertThat(link.path("type").asText()).isEqualTo("absolute");
  }

  @Test
  void referralSuggestionsCreateTheRightService() {
    assertThat(createdCode(card("r11-pos-age-15", "gynecologic-cause"))).isEqualTo("308485000");
    assertThat(createdCode(card("r12-pos-current", "smoking-cessation"))).isEqualTo("315232003");
    assertThat(createdCode(card("r17-pos-84d", "surgical-consult"))).isEqualTo("308482002");
    assertThat(createdCode(card("r5-pos-as", "inflammatory-back-pain"))).isEqualTo("306290009");
  }

  static String createdCode(JsonNode card) {
    JsonNode action = only(only(card.path("suggestions")).path("actions"));
    return only(action.path("resource").path("code").path("coding")).path("code").asText();
  }

  @Test
  void theReviewPageOfTheCardExists() {
    var page = client.getPage(ptReferralCard().path("source").path("url").asText());
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.raw()).contains("Refer to physical therapy").contains("library PtReferral");
  }
}
