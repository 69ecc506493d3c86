package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.backhippain.cds.service.CapturedLogsAccess;
import org.backhippain.cds.service.CdsApplication;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** Security is on unless the demo profile says otherwise; sandbox trust is explicit and alone. */
class SecurityProfileTests {

  static ConfigurableApplicationContext start(String... args) {
    String[] all = new String[args.length + 2];
    all[0] = "--server.port=0";
    all[1] = "--spring.main.banner-mode=off";
    System.arraycopy(args, 0, all, 2, args.length);
    return SpringApplication.run(CdsApplication.class, all);
  }

  @Test
  void turningSecurityOffOutsideTheDemoProfileStopsStartUp() {
    assertThatThrownBy(() -> start("--cds.security.enabled=false"))
        .hasStackTraceContaining("allowed only in the demo profile");
  }

  @Test
  void theDefaultProfileRefusesCallsWithoutAToken() throws Exception {
    try (ConfigurableApplicationContext app = start()) {
      int port = ((WebServerApplicationContext) app).getWebServer().getPort();
      var response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/cds-services"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(401);
    }
  }

  @Test
  void sandboxTrustStartsAndSaysLoudlyThatTheKeyIsPublic() {
    try (ConfigurableApplicationContext app = start("--spring.profiles.active=sandbox-trust")) {
      assertThat(app.isRunning()).isTrue();
      assertThat(CapturedLogsAccess.lines())
          .anyMatch(line -> line.contains("SANDBOX TRUST") && line.contains("ANYONE can mint"));
    }
  }

  @Test
  void sandboxTrustCannotBeCombinedWithAnotherIssuer() {
    assertThatThrownBy(
            () ->
                start(
                    "--spring.profiles.active=sandbox-trust",
                    "--cds.security.issuers[0].issuer=https://ehr.hospital.test",
                    "--cds.security.issuers[0].jwks-url=https://ehr.hospital.test/jwks.json"))
        .hasStackTraceContaining("cannot be combined with other trusted issuers");
  }

  @Test
  void theDemoProfileSaysLoudlyThatSecurityIsOff() {
    try (ConfigurableApplicationContext app = start("--spring.profiles.active=demo")) {
      assertThat(CapturedLogsAccess.lines()).anyMatch(line -> line.contains("SECURITY OFF"));
    }
  }
}
