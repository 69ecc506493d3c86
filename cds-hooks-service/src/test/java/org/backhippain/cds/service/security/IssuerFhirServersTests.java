package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.net.http.HttpResponse;
import org.backhippain.cds.service.FhirStubs;
import org.backhippain.cds.service.HookClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With authentication on, the issuer whose signature was verified decides which FHIR servers may be
 * read: its {@code fhir-servers}; an issuer without any has nothing fetched, and the global {@code
 * cds.fhir.allowed-servers} does not apply.
 */
class IssuerFhirServersTests extends SecuredService {
  static final String PATIENT = "issuer-patient";
  static WireMockServer ehr;

  @BeforeAll
  static void start() {
    ehr = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    ehr.start();
    FhirStubs.lowBackPainPatient(ehr, PATIENT, "2026-01-01");
  }

  @AfterAll
  static void stop() {
    ehr.stop();
  }

  String hook() {
    ObjectNode request = HookClient.request("patient-view", PATIENT);
    request.put("fhirServer", ehr.baseUrl() + "/fhir");
    return request.toString();
  }

  @Test
  void theVerifiedIssuersFhirServersAreReadAndNoOthers() {
    HttpResponse<String> allowed = post(HOOK_PATH, token(HOOK_PATH), hook());
    assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    assertThat(ehr.getAllServeEvents()).hasSize(7);

    ehr.resetRequests();
    HttpResponse<String> refused =
        post(
            HOOK_PATH,
            token(HOOK_PATH, c -> c.issuer(TENANT_ISS).claim("tenant", "hospital-a")),
            hook());
    assertThat(refused.statusCode()).isEqualTo(412);
    assertThat(refused.body()).contains("FHIR server not allowed");
    assertThat(ehr.getAllServeEvents()).isEmpty();
  }
}
