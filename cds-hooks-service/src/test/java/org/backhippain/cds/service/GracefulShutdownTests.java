package org.backhippain.cds.service;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** Graceful shutdown: a hook in flight when the service is stopped still gets its answer. */
class GracefulShutdownTests {

  @Test
  void aHookInFlightCompletesWhileTheServiceStops() throws Exception {
    WireMockServer ehr = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    ehr.start();
    try {
      FhirStubs.lowBackPainPatient(ehr, "shutdown-patient", "2026-01-01");
      ehr.stubFor(
          get(urlPathEqualTo("/fhir/Coverage"))
              .willReturn(FhirStubs.json(FhirStubs.searchset()).withFixedDelay(1_000)));
      ConfigurableApplicationContext app =
          SpringApplication.run(
              CdsApplication.class,
              "--server.port=0",
              "--spring.main.banner-mode=off",
              "--spring.profiles.active=demo");
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      ObjectNode request = HookClient.request("patient-view", "shutdown-patient");
      request.put("fhirServer", ehr.baseUrl() + "/fhir");
      CompletableFuture<HookClient.Answer> inFlight =
          CompletableFuture.supplyAsync(() -> client.post("back-hip-pain-patient-view", request));
      Thread.sleep(400);
      app.close();
      HookClient.Answer answer = inFlight.get();
      assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
      assertThat(answer.ruleIds()).contains("pt-referral");
    } finally {
      ehr.stop();
    }
  }
}
