package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.backhippain.cds.service.CapturedLogsAccess;
import org.backhippain.cds.service.CdsApplication;
import org.backhippain.cds.service.HookClient;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Profiles say what they do. Security is on unless the demo profile turns it off, and then
 * sandbox-trust turns it on again; with it on, the public base URL must be configured; sandbox
 * trust is explicit and alone; CORS is off outside the demo except for the Sandbox under
 * sandbox-trust.
 */
class SecurityProfileTests {
  static final String BASE = "--cds.public-base-url=https://cds.hospital.test";

  static ConfigurableApplicationContext start(String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "--server.port=0";
    all[1] = "--spring.main.banner-mode=off";
    System.arraycopy(args, 0, all, 2, args.length);
    return SpringApplication.run(CdsApplication.class, all);
  }

  static int port(ConfigurableApplicationContext app) {
    return ((WebServerApplicationContext) app).getWebServer().getPort();
  }

  static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)));
  }

  static HttpResponse<String> post(int port, String path, String json) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** The benchmark's floors (bench profile): parsed but not evaluated, and JSON tree only. */
  static final String[] FLOORS = {
    "/bench/floor/back-hip-pain-patient-view", "/bench/json-floor/back-hip-pain-patient-view"
  };

  static HttpResponse<String> preflight(int port, String origin) throws Exception {
    return send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/cds-services"))
            .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization"));
  }

  @Test
  void turningSecurityOffOutsideTheDemoProfileStopsStartUp() {
    assertThatThrownBy(() -> start("--cds.security.enabled=false"))
        .hasStackTraceContaining("allowed only in the demo profile");
  }

  @Test
  void withSecurityOnThePublicBaseUrlIsRequired() {
    assertThatThrownBy(() -> start())
        .hasStackTraceContaining("cds.public-base-url is required when authentication is on");
  }

  @Test
  void outsideTheDemoEveryCallNeedsATokenNoOriginIsAllowedAndBenchIsRefused() throws Exception {
    try (ConfigurableApplicationContext app = start(BASE, "--spring.profiles.active=bench")) {
      int port = port(app);
      assertThat(get(port, "/cds-services").statusCode()).isEqualTo(401);
      assertThat(get(port, "/fhir/metadata").statusCode()).isEqualTo(401);
      for (String floor : FLOORS) {
        assertThat(post(port, floor, "{}").statusCode()).as(floor).isEqualTo(401);
      }
      HttpResponse<String> foreign = preflight(port, "https://sandbox.cds-hooks.org");
      assertThat(foreign.statusCode()).isEqualTo(403);
      assertThat(foreign.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
      assertThat(CapturedLogsAccess.lines())
          .anyMatch(line -> line.contains("bench profile without demo: /bench is refused"))
          .noneMatch(line -> line.contains("generated security password"));
    }
  }

  @Test
  void benchBesideTheDemoOpensBothFloorsWhichAnswerNoCards() throws Exception {
    try (ConfigurableApplicationContext app = start("--spring.profiles.active=demo,bench")) {
      int port = port(app);
      String hook = HookClient.smokerWithBackPain("floor-" + UUID.randomUUID()).toString();
      for (String floor : FLOORS) {
        HttpResponse<String> answer = post(port, floor, hook);
        assertThat(answer.statusCode()).as(floor).isEqualTo(200);
        assertThat(answer.body()).as(floor).isEqualTo("{\"cards\":[]}");
        // Still the service's strict JSON reading: a body that is not one JSON document is a 400.
        assertThat(post(port, floor, "{\"hook\": ").statusCode()).as(floor).isEqualTo(400);
      }
      assertThat(
              post(port, "/bench/json-floor/back-hip-pain-patient-view", "{\"a\":1,\"a\":2}")
                  .statusCode())
          .as("a key twice")
          .isEqualTo(400);
    }
  }

  @Test
  void sandboxTrustStartsSaysLoudlyThatTheKeyIsPublicAndAllowsTheSandboxOrigin() throws Exception {
    try (ConfigurableApplicationContext app =
        start("--spring.profiles.active=sandbox-trust", BASE)) {
      assertThat(app.isRunning()).isTrue();
      assertThat(CapturedLogsAccess.lines())
          .anyMatch(line -> line.contains("SANDBOX TRUST") && line.contains("ANYONE can mint"));
      HttpResponse<String> sandbox = preflight(port(app), "https://sandbox.cds-hooks.org");
      assertThat(sandbox.statusCode()).isEqualTo(200);
      assertThat(sandbox.headers().firstValue("Access-Control-Allow-Origin"))
          .contains("https://sandbox.cds-hooks.org");
      assertThat(preflight(port(app), "https://elsewhere.test").statusCode()).isEqualTo(403);
    }
  }

  @Test
  void sandboxTrustCannotBeCombinedWithAnotherIssuer() {
    assertThatThrownBy(
            () ->
                start(
                    "--spring.profiles.active=sandbox-trust",
                    BASE,
                    "--cds.security.issuers[0].issuer=https://ehr.hospital.test",
                    "--cds.security.issuers[0].jwks-url=https://ehr.hospital.test/jwks.json"))
        .hasStackTraceContaining("cannot be combined with other trusted issuers");
  }

  @Test
  void demoWithSandboxTrustTurnsAuthenticationOnAndSaysSoTheDemoFhirServerStaysOpen()
      throws Exception {
    try (ConfigurableApplicationContext app =
        start("--spring.profiles.active=demo,sandbox-trust", BASE)) {
      int port = port(app);
      HttpResponse<String> discovery = get(port, "/cds-services");
      assertThat(discovery.statusCode()).isEqualTo(401);
      assertThat(discovery.body()).contains("\"error\":\"unauthorized\"");
      assertThat(get(port, "/fhir/metadata").statusCode()).isEqualTo(200);
      assertThat(preflight(port, "https://sandbox.cds-hooks.org").statusCode()).isEqualTo(200);
      assertThat(CapturedLogsAccess.lines())
          .anyMatch(
              line ->
                  line.contains("demo + sandbox-trust: authentication is ON for /cds-services")
                      && line.contains("/fhir stays open"));
    }
  }

  @Test
  void theDemoProfileSaysLoudlyThatSecurityIsOffAndHonoursItsTrustedProxy() throws Exception {
    try (ConfigurableApplicationContext app =
        start("--spring.profiles.active=demo", "--cds.trusted-proxies=127.0.0.1")) {
      assertThat(CapturedLogsAccess.lines()).anyMatch(line -> line.contains("SECURITY OFF"));
      // No public base URL in the demo: links follow the request, as the trusted proxy tells it.
      HttpResponse<String> answer =
          send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://localhost:"
                              + port(app)
                              + "/cds-services/back-hip-pain-patient-view"))
                  .header("Content-Type", "application/json")
                  .header("X-Forwarded-Host", "cds.proxy.test")
                  .header("X-Forwarded-Proto", "https")
                  .header("X-Forwarded-Port", "443")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          HookClient.smokerWithBackPain("proxy-" + UUID.randomUUID()).toString())));
      assertThat(answer.statusCode()).isEqualTo(200);
      assertThat(answer.body()).contains("\"url\":\"https://cds.proxy.test/review/");
      for (String floor : FLOORS) {
        assertThat(post(port(app), floor, "{}").statusCode())
            .as("no floor without the bench profile: " + floor)
            .isEqualTo(401);
      }
    }
  }
}
