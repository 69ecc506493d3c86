package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** {@code GET /cds-services} lists the three fixed services with the spec's prefetch templates. */
@ServiceTest
class DiscoveryTests {
  static final String F = "https://back-hip-pain-cds.org/fhir/CodeSystem/findings";
  static final Map<String, String> TEMPLATES =
      Map.of(
          "patient", "Patient/{{context.patientId}}",
          "conditions", "Condition?patient={{context.patientId}}",
          "observations",
              "Observation?patient={{context.patientId}}&code=http://loinc.org|72514-3,"
                  + "http://loinc.org|8310-5,http://loinc.org|29463-7,http://loinc.org|72166-2,"
                  + "http://snomed.info/sct|36163009,"
                  + F
                  + "|saddle-anesthesia,"
                  + F
                  + "|morning-stiffness-over-30-min,"
                  + F
                  + "|better-with-exercise-not-rest",
          "medications",
              "MedicationRequest?patient={{context.patientId}}&_include=MedicationRequest:medication",
          "serviceRequests", "ServiceRequest?patient={{context.patientId}}",
          "procedures", "Procedure?patient={{context.patientId}}",
          "coverage", "Coverage?patient={{context.patientId}}&status=active");

  @LocalServerPort int port;

  @Test
  void listsTheThreeServicesWithTheirHooksAndTemplates() {
    var answer = new HookClient(port).get("http://localhost:" + port + "/cds-services");
    assertThat(answer.status()).isEqualTo(200);
    Map<String, String> hooks = new HashMap<>();
    for (JsonNode service : answer.body().path("services")) {
      hooks.put(service.path("id").asText(), service.path("hook").asText());
      assertThat(service.path("title").asText()).isNotBlank();
      assertThat(service.path("description").asText()).isNotBlank();
      Map<String, String> prefetch = new HashMap<>();
      service
          .path("prefetch")
          .fields()
          .forEachRemaining(e -> prefetch.put(e.getKey(), e.getValue().asText()));
      assertThat(prefetch).isEqualTo(TEMPLATES);
    }
    assertThat(hooks)
        .isEqualTo(
            Map.of(
                "back-hip-pain-patient-view", "patient-view",
                "back-hip-pain-order-select", "order-select",
                "back-hip-pain-order-sign", "order-sign"));
  }

  @Test
  void corsPreflightIsAnsweredForBrowserClients() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var response =
        http.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(
                        "http://localhost:" + port + "/cds-services/back-hip-pain-patient-view"))
                .method("OPTIONS", java.net.http.HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://sandbox.cds-hooks.org")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type")
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Access-Control-Allow-Origin"))
        .contains("https://sandbox.cds-hooks.org");
    assertThat(response.headers().firstValue("Access-Control-Allow-Headers").orElse(""))
        .containsIgnoringCase("authorization")
        .containsIgnoringCase("content-type");
  }
}
