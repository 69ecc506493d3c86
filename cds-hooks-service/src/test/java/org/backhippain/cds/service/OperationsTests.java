package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** What operators rely on: health probes, metrics, request ids, body limits. */
@ServiceTest
class OperationsTests {
  static final String PV = "back-hip-pain-patient-view";
  @LocalServerPort int port;
  @Autowired TestClock clock;
  @Autowired com.fasterxml.jackson.databind.ObjectMapper json;

  @Autowired org.backhippain.cds.cql.ContentPackage content;
  @Autowired ca.uhn.fhir.context.FhirContext fhir;

  @Test
  void startUpWarmsTheHookPathWithTheFixedWarmUpSetBeforeReadiness() throws Exception {
    // A fixed set shipped in the package (other/warm-up), not the test cases: at most 10
    // requests, every hook, each with prefetch (and read again over the fetch path).
    List<String> files =
        content.paths("warm-up").stream().filter(p -> p.endsWith(".json")).toList();
    assertThat(files).hasSizeBetween(3, 10);
    java.util.Set<String> hooks = new java.util.TreeSet<>();
    for (String file : files) {
      var request = json.readTree(content.file(file).orElseThrow()).get("request");
      hooks.add(request.path("hook").asText());
      assertThat(request.path("prefetch").path("patient").path("resourceType").asText())
          .as(file)
          .isEqualTo("Patient");
    }
    assertThat(hooks).containsExactly("order-select", "order-sign", "patient-view");
    assertThat(CapturedLogs.LINES)
        .anyMatch(
            l ->
                l.contains("hook path warm: " + files.size() + " warm-up requests x ")
                    && !l.contains("(0 cards")
                    && l.contains(", 0 failed; feedback store rehearsed, rolled back)"));
    assertThat(CapturedLogs.LINES)
        .anyMatch(l -> l.contains("fetch path warm: ") && l.contains("(0 failed)"));
  }

  @Test
  void requestJsonKeepsFhirDecimalsExactly() throws Exception {
    // prefetched resources go from the request's JSON tree straight into HAPI
    assertThat(json.readTree("{\"value\": 0.10}").get("value").toString()).isEqualTo("0.10");
    assertThat(json.readTree("{\"value\": 12345678901234567890.123}").get("value").toString())
        .isEqualTo("12345678901234567890.123");
  }

  @Test
  void livenessAndReadinessAreUpOnceTheEngineIsWarm() {
    HookClient client = new HookClient(port);
    assertThat(
            client.get(client.base() + "/actuator/health/liveness").body().path("status").asText())
        .isEqualTo("UP");
    assertThat(
            client.get(client.base() + "/actuator/health/readiness").body().path("status").asText())
        .isEqualTo("UP");
  }

  @Test
  void metricsCountHooksCardsFetchesAndErrors() {
    HookClient client = new HookClient(port);
    clock.set(LocalDate.parse("2026-06-15"));
    var request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.put("fhirServer", client.fhirBase());
    assertThat(client.post(PV, request).status()).isEqualTo(200);
    client.post("no-such-service", request);
    String base = client.base() + "/actuator/metrics/";
    assertThat(
            client
                .getAsOperator(base + "cds.hook?tag=service:" + PV + "&tag=outcome:ok")
                .body()
                .path("measurements"))
        .as("the COUNT statistic of the hook timer")
        .anySatisfy(
            m -> {
              assertThat(m.path("statistic").asText()).isEqualTo("COUNT");
              assertThat(m.path("value").asDouble()).isPositive();
            });
    assertThat(client.getAsOperator(base + "cds.cards?tag=rule:pt-referral").status())
        .isEqualTo(200);
    assertThat(client.getAsOperator(base + "cds.fhir.fetch?tag=key:conditions").status())
        .isEqualTo(200);
    assertThat(client.getAsOperator(base + "cds.errors?tag=kind:not_found").status())
        .isEqualTo(200);
  }

  @Test
  void metricsNeedTheOperatorCredentialHealthDoesNot() {
    HookClient client = new HookClient(port);
    HookClient.Answer anonymous = client.get(client.base() + "/actuator/metrics");
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.headers().get("www-authenticate"))
        .contains("Basic realm=\"cds-operator\"");
    assertThat(anonymous.body().path("error").asText()).isEqualTo("unauthorized");
    assertThat(client.get(client.base() + "/actuator/health/readiness").status()).isEqualTo(200);
    assertThat(client.getAsOperator(client.base() + "/actuator/metrics").status()).isEqualTo(200);
  }

  @Test
  void forwardedHeadersFromAnAddressThatIsNoTrustedProxyAreIgnored() throws Exception {
    HookClient client = new HookClient(port);
    clock.set(LocalDate.parse("2026-06-15"));
    var request = HookClient.request("patient-view", "ptref-pos-21-days");
    request.put("fhirServer", client.fhirBase());
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(client.base() + "/cds-services/" + PV))
                    .header("Content-Type", "application/json")
                    .header("X-Forwarded-Host", "evil.test")
                    .header("X-Forwarded-Proto", "https")
                    .header("X-Forwarded-Port", "443")
                    .POST(HttpRequest.BodyPublishers.ofString(request.toString()))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    HookClient.Answer answer =
        new HookClient.Answer(200, HookClient.json(response.body()), response.body(), 0, Map.of());
    assertThat(answer.card("pt-referral").path("source").path("url").asText())
        .startsWith(client.base() + "/review/");
    assertThat(response.body()).doesNotContain("evil.test");
  }

  @Test
  void everyAnswerCarriesARequestIdAndEchoesTheCallers() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/cds-services"))
                    .header("X-Request-Id", "ehr-req-42")
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.headers().firstValue("X-Request-Id")).contains("ehr-req-42");
  }

  @Test
  void aBodyOverTheLimitIs413WithOrWithoutALength() throws Exception {
    byte[] big =
        ("{\"hook\":\"patient-view\",\"pad\":\"" + "x".repeat(17 * 1024 * 1024) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    HttpClient http = HttpClient.newHttpClient();
    URI uri = URI.create("http://localhost:" + port + "/cds-services/" + PV);
    HttpResponse<String> withLength =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(big))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(withLength.statusCode()).isEqualTo(413);
    assertThat(withLength.body()).contains("payload_too_large");
    HttpResponse<String> chunked =
        http.send(
            HttpRequest.newBuilder(uri)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(chunked.statusCode()).isEqualTo(413);
    assertThat(chunked.body()).contains("payload_too_large");
  }
}
