package org.backhippain.cds.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Observation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Where the service connects and where the EHR's token goes (the outbound boundary): only to an
 * allowed {@code fhirServer}, never to a private, loopback or metadata address it was not told
 * about (checked on the address connected), never across origins by redirect or {@code next} link,
 * and only as the token's expiry, scope and patient allow.
 */
@ServiceTest
class OutboundBoundaryTests {
  static final String SERVICE = "back-hip-pain-patient-view";
  static final String PATIENT = "boundary-patient";
  static final String TOKEN = "boundary-secret-token";
  static final long BOUND_MS = 2_500;
  static WireMockServer ehr;
  static WireMockServer other;

  @LocalServerPort int port;
  @Autowired TestClock clock;
  @Autowired MeterRegistry meters;
  HookClient client;

  @BeforeAll
  static void start() {
    ehr = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    other = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    ehr.start();
    other.start();
  }

  @AfterAll
  static void stop() {
    ehr.stop();
    other.stop();
  }

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
    clock.set(LocalDate.parse("2026-06-15"));
    ehr.resetAll();
    other.resetAll();
    FhirStubs.lowBackPainPatient(ehr, PATIENT, "2026-05-25");
    FhirStubs.lowBackPainPatient(other, PATIENT, "2026-05-25");
  }

  ObjectNode request(String fhirServer) {
    ObjectNode request = HookClient.request("patient-view", PATIENT);
    request.put("fhirServer", fhirServer);
    request
        .putObject("fhirAuthorization")
        .put("access_token", TOKEN)
        .put("token_type", "Bearer")
        .put("expires_in", 300)
        .put("scope", "patient/*.read")
        .put("subject", "cds-service")
        .put("patient", PATIENT);
    return request;
  }

  HookClient.Answer call(ObjectNode request) {
    HookClient.Answer answer = client.post(SERVICE, request);
    System.out.printf(
        "BOUNDARY %-60s -> HTTP %d in %d ms: %s%n",
        request.path("fhirServer").asText(),
        answer.status(),
        answer.millis(),
        answer.status() == 200 ? answer.ruleIds() : answer.body().path("message").asText());
    return answer;
  }

  static void assertNotConsidered(HookClient.Answer answer, String key) {
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    answer
        .body()
        .path("cards")
        .forEach(card -> assertThat(card.path("detail").asText()).contains("considered: " + key));
  }

  @Test
  void disallowedPrivateLoopbackAndMetadataAddressesAreRefusedBeforeAnyConnection() {
    int p = ehr.port();
    List<String> refused =
        List.of(
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/fhir",
            "http://192.168.1.10:" + p + "/fhir",
            "http://127.0.0.1:" + p + "/fhir",
            "http://[::1]:" + p + "/fhir",
            "http://[::ffff:127.0.0.1]:" + p + "/fhir",
            "http://2130706433:" + p + "/fhir",
            "http://0177.0.0.1:" + p + "/fhir",
            "http://0x7f.1:" + p + "/fhir",
            "http://0.0.0.0:" + p + "/fhir",
            "http://localhost.:" + p + "/fhir",
            "http://localhost:" + port + "/actuator",
            "http://localhost:" + p + "/fhir/../actuator",
            "http://localhost:" + p + "/fhir/%2e%2e/actuator",
            "http://localhost:" + p + "/fhir-other",
            "http://user@localhost:" + p + "/fhir",
            "http://localhost:" + p + "/fhir?x=1",
            "ftp://localhost:" + p + "/fhir");
    for (String fhirServer : refused) {
      HookClient.Answer answer = call(request(fhirServer));
      assertThat(answer.status()).as(fhirServer).isEqualTo(412);
      assertThat(answer.body().path("message").asText()).as(fhirServer).contains("not allowed");
      assertThat(answer.millis()).as(fhirServer).isLessThan(BOUND_MS);
      assertThat(answer.raw()).doesNotContain("Exception");
    }
    assertThat(ehr.getAllServeEvents()).as("requests the stub received").isEmpty();
  }

  @Test
  void aListedNameThatResolvesToLoopbackIsRefusedOnTheAddressConnected() {
    String rebound = "http://" + ServiceTest.REBOUND_HOST + ":" + ehr.port() + "/fhir";
    ObjectNode open = request(rebound);
    open.remove("fhirAuthorization");
    HookClient.Answer answer = call(open);
    assertThat(answer.status()).isEqualTo(412);
    assertThat(answer.body().path("message").asText())
        .contains("FHIR server not allowed: its address is loopback");
    // With a token the request is refused even earlier: a bearer over plain http goes only to an
    // origin listed exactly (not through a * port) or to loopback named as such.
    answer = call(request(rebound));
    assertThat(answer.status()).isEqualTo(412);
    assertThat(answer.body().path("message").asText()).contains("not sent over plain http");
    assertThat(ehr.getAllServeEvents()).as("requests the stub received").isEmpty();
  }

  @Test
  void aDisallowedServerMattersOnlyForKeysThatMustBeFetched() {
    ObjectNode request = request("http://169.254.169.254/latest/meta-data");
    client.prefetched(request, SERVICE, ehr.baseUrl() + "/fhir");
    assertThat(call(request).status()).isEqualTo(200);
    ((ObjectNode) request.get("prefetch")).remove("coverage");
    assertNotConsidered(call(request), "coverage");
  }

  @Test
  void aCrossOriginRedirectIsNotFollowedAndTheOtherOriginGetsNothing() {
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/Observation"))
            .willReturn(
                aResponse()
                    .withStatus(302)
                    .withHeader("Location", other.baseUrl() + "/fhir/Observation")));
    HookClient.Answer answer = call(request(ehr.baseUrl() + "/fhir"));
    assertNotConsidered(answer, "observations");
    assertThat(other.getAllServeEvents()).isEmpty();
    assertThat(
            meters
                .find("cds.fhir.fetch")
                .tags(
                    "key",
                    "observations",
                    "failure",
                    "redirect_other_origin",
                    "origin",
                    "http://localhost:" + ehr.port())
                .timer())
        .as("cds.fhir.fetch tagged by origin and failure")
        .isNotNull();
  }

  @Test
  void sameOriginRedirectsAreFollowedWithTheTokenUpToThree() {
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/Coverage"))
            .willReturn(aResponse().withStatus(302).withHeader("Location", "/fhir/moved/1")));
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/moved/1"))
            .willReturn(
                aResponse()
                    .withStatus(307)
                    .withHeader("Location", ehr.baseUrl() + "/fhir/moved/2")));
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/moved/2")).willReturn(FhirStubs.json(FhirStubs.searchset())));
    HookClient.Answer answer = call(request(ehr.baseUrl() + "/fhir"));
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.raw()).doesNotContain("not considered");
    ehr.verify(
        getRequestedFor(urlPathEqualTo("/fhir/moved/2"))
            .withHeader("Authorization", equalTo("Bearer " + TOKEN)));

    ehr.stubFor(
        get(urlPathEqualTo("/fhir/moved/2"))
            .willReturn(aResponse().withStatus(302).withHeader("Location", "/fhir/moved/3")));
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/moved/3"))
            .willReturn(aResponse().withStatus(302).withHeader("Location", "/fhir/moved/4")));
    assertNotConsidered(call(request(ehr.baseUrl() + "/fhir")), "coverage");
    ehr.verify(0, getRequestedFor(urlPathEqualTo("/fhir/moved/4")));
  }

  @Test
  void aNextLinkToAnotherOriginIsNotFollowed() {
    Bundle page1 = FhirStubs.searchset(new Observation().setId("o1"));
    page1.addLink().setRelation("next").setUrl(other.baseUrl() + "/fhir/Observation?page=2");
    ehr.stubFor(get(urlPathEqualTo("/fhir/Observation")).willReturn(FhirStubs.json(page1)));
    HookClient.Answer answer = call(request(ehr.baseUrl() + "/fhir"));
    assertNotConsidered(answer, "observations");
    assertThat(other.getAllServeEvents()).isEmpty();
  }

  @Test
  void theTokenIsNotSentWhenExpiredOrForAnotherPatient() {
    ObjectNode expired = request(ehr.baseUrl() + "/fhir");
    ((ObjectNode) expired.get("fhirAuthorization")).put("expires_in", 0);
    HookClient.Answer answer = call(expired);
    assertThat(answer.status()).isEqualTo(412);
    assertThat(answer.body().path("message").asText()).contains("access token expired");

    ObjectNode otherPatient = request(ehr.baseUrl() + "/fhir");
    ((ObjectNode) otherPatient.get("fhirAuthorization")).put("patient", "someone-else");
    answer = call(otherPatient);
    assertThat(answer.status()).isEqualTo(412);
    assertThat(answer.body().path("message").asText()).contains("another patient");
    assertThat(ehr.getAllServeEvents()).isEmpty();
  }

  @Test
  void onlyKeysTheScopeCoversAreFetched() {
    ObjectNode request = request(ehr.baseUrl() + "/fhir");
    ((ObjectNode) request.get("fhirAuthorization"))
        .put("scope", "launch patient/Patient.read patient/Condition.rs openid");
    HookClient.Answer answer = call(request);
    assertNotConsidered(answer, "observations");
    List<String> paths = new ArrayList<>();
    ehr.getAllServeEvents().forEach(e -> paths.add(e.getRequest().getUrl().split("\\?")[0]));
    assertThat(paths).containsExactlyInAnyOrder("/fhir/Patient/" + PATIENT, "/fhir/Condition");
    ehr.verify(
        2,
        getRequestedFor(com.github.tomakehurst.wiremock.client.WireMock.anyUrl())
            .withHeader("Authorization", equalTo("Bearer " + TOKEN)));
  }

  @Test
  void withoutFhirAuthorizationNothingCarriesAToken() {
    ObjectNode request = request(ehr.baseUrl() + "/fhir");
    request.remove("fhirAuthorization");
    assertThat(call(request).status()).isEqualTo(200);
    ehr.verify(
        7,
        getRequestedFor(com.github.tomakehurst.wiremock.client.WireMock.anyUrl())
            .withHeader("Authorization", absent()));
  }
}
