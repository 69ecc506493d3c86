package org.backhippain.cds.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.time.LocalDate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * No prefetch: the service reads the EHR's FHIR server (WireMock), with the request's bearer token
 * on every call; faults end in a defined answer within the fetch budget.
 */
@ServiceTest
class FhirServerFetchTests {
  static final String SERVICE = "back-hip-pain-patient-view";
  static final String PATIENT = "ptref-pos-21-days";
  static final String TOKEN = "test-access-token-123";
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static WireMockServer ehr;

  @LocalServerPort int port;
  @Autowired TestClock clock;
  HookClient client;

  @BeforeAll
  static void startEhr() {
    ehr = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    ehr.start();
  }

  @AfterAll
  static void stopEhr() {
    ehr.stop();
  }

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
    clock.set(LocalDate.parse("2026-06-15"));
    ehr.resetAll();
    FhirStubs.lowBackPainPatient(ehr, PATIENT, "2026-05-25");
  }

  ObjectNode request() {
    ObjectNode request = HookClient.request("patient-view", PATIENT);
    request.put("fhirServer", ehr.baseUrl() + "/fhir");
    ObjectNode auth = request.putObject("fhirAuthorization");
    auth.put("access_token", TOKEN);
    auth.put("token_type", "Bearer");
    auth.put("expires_in", 300);
    auth.put("scope", "patient/*.read");
    auth.put("subject", "cds-service");
    return request;
  }

  @Test
  void readsEveryTemplateQueryWithTheBearerToken() {
    var answer = client.post(SERVICE, request());
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    assertThat(answer.ruleIds()).containsExactlyInAnyOrder("pt-referral", "self-care");
    assertThat(ehr.getAllServeEvents()).hasSize(7);
    ehr.verify(
        7, anyRequestedFor(anyUrl()).withHeader("Authorization", equalTo("Bearer " + TOKEN)));
    ehr.verify(
        getRequestedFor(urlPathEqualTo("/fhir/Observation"))
            .withQueryParam("patient", equalTo(PATIENT))
            .withQueryParam(
                "code", com.github.tomakehurst.wiremock.client.WireMock.matching(".*8310-5.*")));
    ehr.verify(
        getRequestedFor(urlPathEqualTo("/fhir/Coverage"))
            .withQueryParam("status", equalTo("active")));
  }

  @Test
  void withoutFhirAuthorizationNoTokenIsSent() {
    ObjectNode request = request();
    request.remove("fhirAuthorization");
    assertThat(client.post(SERVICE, request).status()).isEqualTo(200);
    assertThat(ehr.getAllServeEvents())
        .allSatisfy(e -> assertThat(e.getRequest().containsHeader("Authorization")).isFalse());
  }

  @Test
  void onlyTheKeysNotPrefetchedAreFetched() {
    ObjectNode request = request();
    ObjectNode prefetch = request.putObject("prefetch");
    prefetch.putNull("observations");
    prefetch.putNull("coverage");
    assertThat(client.post(SERVICE, request).status()).isEqualTo(200);
    assertThat(ehr.getAllServeEvents()).hasSize(5);
    ehr.verify(0, getRequestedFor(urlPathEqualTo("/fhir/Observation")));
  }

  @Test
  void aServerErrorOnRequiredDataIs412() {
    ehr.stubFor(get(urlPathEqualTo("/fhir/Condition")).willReturn(aResponse().withStatus(500)));
    var answer = client.post(SERVICE, request());
    assertThat(answer.status()).isEqualTo(412);
    assertThat(answer.body().path("message").asText()).contains("conditions").contains("HTTP 500");
  }

  @Test
  void aSlowOptionalKeyIsCutAtTheBudgetAndNamedInTheWhy() {
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/Observation"))
            .willReturn(FhirStubs.json(FhirStubs.searchset()).withFixedDelay(5_000)));
    var answer = client.post(SERVICE, request());
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.millis()).isLessThan(3_000);
    assertThat(answer.card("pt-referral").path("detail").asText())
        .contains("Not available from the EHR, so not considered: observations");
  }
}
