package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * One slow origin starves only itself: 20 hooks whose FHIR server drips a byte a second get 412
 * within the budget, while hooks reading another server, and prefetch-only hooks, are answered 200
 * with all their data in about the time they take without the drippers (a baseline measured here).
 */
@ServiceTest
class FetchBulkheadTests {
  static final String SERVICE = "back-hip-pain-patient-view";
  static final String PATIENT = "bulkhead-patient";
  static final int DRIPPING = 20;
  static final int HEALTHY = 6;
  static StreamingFhirServer dripping;
  static WireMockServer healthy;

  @LocalServerPort int port;
  @Autowired TestClock clock;

  @BeforeAll
  static void start() {
    dripping = new StreamingFhirServer(PATIENT);
    for (String type :
        List.of(
            "Patient",
            "Condition",
            "Observation",
            "MedicationRequest",
            "ServiceRequest",
            "Procedure",
            "Coverage")) {
      dripping.set(type, new StreamingFhirServer.Drip(30));
    }
    healthy = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    healthy.start();
    FhirStubs.lowBackPainPatient(healthy, PATIENT, "2026-05-25");
  }

  @AfterAll
  static void stop() {
    dripping.close();
    healthy.stop();
  }

  ObjectNode fetching(String fhirServer) {
    ObjectNode request = HookClient.request("patient-view", PATIENT);
    request.put("fhirServer", fhirServer);
    return request;
  }

  /** The healthy mix: fetch-mode hooks reading the healthy server, and prefetch-only hooks. */
  List<CompletableFuture<HookClient.Answer>> healthyMix(HookClient client, ExecutorService pool) {
    List<CompletableFuture<HookClient.Answer>> answers = new ArrayList<>();
    for (int i = 0; i < HEALTHY; i++) {
      answers.add(
          CompletableFuture.supplyAsync(
              () -> client.post(SERVICE, fetching(healthy.baseUrl() + "/fhir")), pool));
      answers.add(
          CompletableFuture.supplyAsync(
              () -> client.post(SERVICE, HookClient.smokerWithBackPain("prefetch-only")), pool));
    }
    return answers;
  }

  static List<Long> checkedMillis(List<CompletableFuture<HookClient.Answer>> answers) {
    List<Long> millis = new ArrayList<>();
    for (CompletableFuture<HookClient.Answer> future : answers) {
      HookClient.Answer answer = future.join();
      assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
      assertThat(answer.raw()).doesNotContain("not considered");
      millis.add(answer.millis());
    }
    Collections.sort(millis);
    return millis;
  }

  @Test
  void twentyDrippingHooksDoNotSlowHooksToOtherServers() throws Exception {
    clock.set(LocalDate.parse("2026-06-15"));
    HookClient client = new HookClient(port);
    ExecutorService pool = Executors.newFixedThreadPool(DRIPPING + 2 * HEALTHY);
    try {
      checkedMillis(healthyMix(client, pool)); // warm this path in this JVM
      List<Long> baseline = checkedMillis(healthyMix(client, pool));

      long dripsStart = System.nanoTime();
      List<CompletableFuture<HookClient.Answer>> drips = new ArrayList<>();
      for (int i = 0; i < DRIPPING; i++) {
        drips.add(
            CompletableFuture.supplyAsync(
                () -> client.post(SERVICE, fetching(dripping.base())), pool));
      }
      long waitUntil = System.nanoTime() + 2_000_000_000L;
      while (dripping.streaming.get() == 0 && System.nanoTime() < waitUntil) {
        Thread.sleep(10);
      }
      assertThat(dripping.streaming.get()).as("drips in flight").isPositive();
      List<Long> during = checkedMillis(healthyMix(client, pool));
      // Before the first dripping hook's budget ends no permit is given back: what the dripping
      // server has seen by then is what was let through at once.
      Thread.sleep(Math.max(0, 1_200 - (System.nanoTime() - dripsStart) / 1_000_000));
      int atOnce = dripping.requests.get();

      List<Long> dripMillis = new ArrayList<>();
      for (CompletableFuture<HookClient.Answer> drip : drips) {
        HookClient.Answer answer = drip.join();
        assertThat(answer.status()).isEqualTo(412);
        dripMillis.add(answer.millis());
      }
      Collections.sort(dripMillis);
      long baselineMax = baseline.get(baseline.size() - 1);
      long duringMax = during.get(during.size() - 1);
      System.out.printf(
          "BULKHEAD healthy hooks alone: median %d ms, max %d ms; beside %d dripping hooks:"
              + " median %d ms, max %d ms; dripping hooks 412 in %d..%d ms; dripping server saw"
              + " %d requests in all, %d in the first 1.2 s%n",
          baseline.get(baseline.size() / 2),
          baselineMax,
          DRIPPING,
          during.get(during.size() / 2),
          duringMax,
          dripMillis.get(0),
          dripMillis.get(dripMillis.size() - 1),
          dripping.requests.get(),
          atOnce);
      assertThat(duringMax)
          .as("healthy hooks beside dripping ones, relative to the same hooks alone")
          .isLessThanOrEqualTo(Math.max(3 * baselineMax, baselineMax + 400));
      assertThat(dripMillis.get(dripMillis.size() - 1))
          .as("dripping hooks end at the budget")
          .isLessThan(2_500);
      assertThat(atOnce)
          .as("reads of the dripping origin in flight at once (cds.fetch.per-origin-concurrency)")
          .isEqualTo(4);
    } finally {
      pool.shutdownNow();
    }
  }
}
