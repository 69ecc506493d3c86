package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Two instances behind one public URL over one PostgreSQL, security on: feedback posted to one
 * snoozes the card on the other; a jti used on one is refused by the other; 50 concurrent feedback
 * posts and hooks lose nothing.
 */
class MultiInstanceTests {
  static final String PUBLIC = "http://cds.hospital.test";
  static final String ISS = "https://ehr.hospital.test";
  static final String PV = "back-hip-pain-patient-view";
  static ECKey key;
  static ConfigurableApplicationContext a;
  static ConfigurableApplicationContext b;
  static int portA;
  static int portB;

  @BeforeAll
  static void startTwoInstances() throws Exception {
    String url = TestDatabases.freshPostgresSchema();
    key = new ECKeyGenerator(Curve.P_384).keyID("k1").generate();
    String jwks = new JWKSet(key.toPublicJWK()).toString();
    String[] args = {
      "--server.port=0",
      "--spring.main.banner-mode=off",
      "--spring.datasource.url=" + url,
      "--spring.datasource.username=" + TestDatabases.USER,
      "--spring.datasource.password=" + TestDatabases.PASSWORD,
      "--cds.public-base-url=" + PUBLIC,
      "--cds.security.issuers[0].issuer=" + ISS,
      "--cds.security.issuers[0].jwks=" + jwks,
      "--cds.security.operator.username=ops",
      "--cds.security.operator.password=ops-pass"
    };
    a = SpringApplication.run(CdsApplication.class, args);
    b = SpringApplication.run(CdsApplication.class, args);
    portA = ((WebServerApplicationContext) a).getWebServer().getPort();
    portB = ((WebServerApplicationContext) b).getWebServer().getPort();
  }

  @AfterAll
  static void stop() {
    if (a != null) a.close();
    if (b != null) b.close();
  }

  static String token(String path) throws Exception {
    Date now = new Date();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .issuer(ISS)
            .audience(PUBLIC + path)
            .issueTime(now)
            .expirationTime(new Date(now.getTime() + 300_000))
            .jwtID(UUID.randomUUID().toString())
            .build();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES384).type(JOSEObjectType.JWT).keyID("k1").build(),
            claims);
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  static HttpResponse<String> post(int port, String path, String token, String body)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** A smoker with back pain, as prefetch (no FHIR server needed). */
  static String hook(String patientId) {
    return HookClient.smokerWithBackPain(patientId).toString();
  }

  static JsonNode card(HttpResponse<String> response, String rule) {
    for (JsonNode c : HookClient.json(response.body()).path("cards")) {
      if (rule.equals(c.path("source").path("topic").path("code").asText())) return c;
    }
    return null;
  }

  static String overridden(JsonNode card) {
    return "{\"feedback\":[{\"card\":\""
        + card.path("uuid").asText()
        + "\",\"outcome\":\"overridden\",\"outcomeTimestamp\":\""
        + java.time.OffsetDateTime.now()
        + "\"}]}";
  }

  @Test
  void feedbackToOneInstanceSnoozesTheCardOnTheOther() throws Exception {
    String patient = "mi-" + UUID.randomUUID();
    HttpResponse<String> first =
        post(portA, "/cds-services/" + PV, token("/cds-services/" + PV), hook(patient));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    JsonNode card = card(first, "smoking-cessation");
    assertThat(card).isNotNull();
    assertThat(
            post(
                    portA,
                    "/cds-services/" + PV + "/feedback",
                    token("/cds-services/" + PV + "/feedback"),
                    overridden(card))
                .statusCode())
        .isEqualTo(200);
    HttpResponse<String> onB =
        post(portB, "/cds-services/" + PV, token("/cds-services/" + PV), hook(patient));
    assertThat(onB.statusCode()).isEqualTo(200);
    assertThat(card(onB, "smoking-cessation")).as("snoozed on the other instance").isNull();
  }

  @Test
  void aJtiUsedOnOneInstanceIsRefusedByTheOther() throws Exception {
    String token = token("/cds-services/" + PV);
    assertThat(post(portA, "/cds-services/" + PV, token, hook("mi-jti")).statusCode())
        .isEqualTo(200);
    assertThat(post(portB, "/cds-services/" + PV, token, hook("mi-jti")).statusCode())
        .isEqualTo(401);
  }

  @Test
  void fiftyConcurrentFeedbackPostsAndHooksLoseNothing() throws Exception {
    long before = overriddenCount();
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      int port = i % 2 == 0 ? portA : portB;
      int other = i % 2 == 0 ? portB : portA;
      results.add(
          pool.submit(
              () -> {
                String patient = "mi-c-" + UUID.randomUUID();
                HttpResponse<String> hook =
                    post(port, "/cds-services/" + PV, token("/cds-services/" + PV), hook(patient));
                JsonNode card = card(hook, "smoking-cessation");
                return post(
                        other,
                        "/cds-services/" + PV + "/feedback",
                        token("/cds-services/" + PV + "/feedback"),
                        overridden(card))
                    .statusCode();
              }));
    }
    for (Future<Integer> r : results) {
      assertThat(r.get()).isEqualTo(200);
    }
    pool.shutdown();
    assertThat(overriddenCount()).isEqualTo(before + 50);
  }

  static long overriddenCount() throws Exception {
    var response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://localhost:" + portB + "/cds-services/analytics"))
                    .header(
                        "Authorization",
                        "Basic "
                            + Base64.getEncoder()
                                .encodeToString("ops:ops-pass".getBytes(StandardCharsets.UTF_8)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    for (JsonNode rule : HookClient.json(response.body()).path("rules")) {
      if (rule.path("ruleId").asText().equals("smoking-cessation"))
        return rule.path("overridden").asLong();
    }
    return 0;
  }
}
