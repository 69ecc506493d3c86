package org.backhippain.cds.service.security;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.backhippain.cds.service.HookClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The token matrix of CDS Hooks §Trusting CDS Clients, with security on (the default profile):
 * valid ES384 and RS384 tokens pass; every other case is a 401 that never reaches the evaluator.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class JwtAuthenticationTests {
  static final String ISS = "https://ehr.test";
  static final String TENANT_ISS = "https://tenant.test";
  static final String SERVICE = "back-hip-pain-patient-view";
  static final WireMockServer keys =
      new WireMockServer(WireMockConfiguration.options().dynamicPort());
  static final ECKey ES;
  static final RSAKey RS;
  static final ECKey JKU_KEY;
  static final ECKey FOREIGN;

  static {
    try {
      ES = new ECKeyGenerator(Curve.P_384).keyID("es-1").generate();
      RS = new RSAKeyGenerator(2048).keyID("rs-1").generate();
      JKU_KEY = new ECKeyGenerator(Curve.P_384).keyID("jku-1").generate();
      FOREIGN = new ECKeyGenerator(Curve.P_384).keyID("es-1").generate();
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
    keys.start();
    keys.stubFor(
        get(urlEqualTo("/jwks.json"))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(new JWKSet(List.of(ES.toPublicJWK(), RS.toPublicJWK())).toString())));
    keys.stubFor(
        get(urlEqualTo("/allowed-jku.json"))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(new JWKSet(List.of(JKU_KEY.toPublicJWK())).toString())));
    keys.stubFor(
        get(urlEqualTo("/other-jku.json"))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(new JWKSet(List.of(FOREIGN.toPublicJWK())).toString())));
  }

  @DynamicPropertySource
  static void issuers(DynamicPropertyRegistry registry) {
    registry.add("cds.security.issuers[0].issuer", () -> ISS);
    registry.add("cds.security.issuers[0].jwks-url", () -> keys.baseUrl() + "/jwks.json");
    registry.add(
        "cds.security.issuers[0].allowed-jkus[0]", () -> keys.baseUrl() + "/allowed-jku.json");
    registry.add("cds.security.issuers[1].issuer", () -> TENANT_ISS);
    registry.add("cds.security.issuers[1].jwks-url", () -> keys.baseUrl() + "/jwks.json");
    registry.add("cds.security.issuers[1].tenant", () -> "hospital-a");
  }

  @AfterAll
  static void stopKeys() {
    keys.stop();
  }

  @LocalServerPort int port;
  @Autowired MeterRegistry meters;
  String url;

  @BeforeEach
  void setUp() {
    url = "http://localhost:" + port + "/cds-services/" + SERVICE;
  }

  JWTClaimsSet.Builder claims() {
    Date now = new Date();
    return new JWTClaimsSet.Builder()
        .issuer(ISS)
        .audience(url)
        .issueTime(now)
        .expirationTime(new Date(now.getTime() + 300_000))
        .jwtID(UUID.randomUUID().toString());
  }

  static String sign(JWSSigner signer, JWSHeader header, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(header, claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  static JWSHeader header(JWSAlgorithm alg, String kid) {
    return new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(kid).build();
  }

  String es384(Consumer<JWTClaimsSet.Builder> change) throws Exception {
    JWTClaimsSet.Builder builder = claims();
    change.accept(builder);
    return sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "es-1"), builder.build());
  }

  /** A minimal hook the service answers 200 to: prefetch of an out-of-scope patient. */
  static String hookBody() {
    ObjectNode request = HookClient.request("patient-view", "p1");
    ObjectNode prefetch = request.putObject("prefetch");
    prefetch.set("patient", HookClient.json("{\"resourceType\":\"Patient\",\"id\":\"p1\"}"));
    prefetch.set(
        "conditions", HookClient.json("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));
    return request.toString();
  }

  HttpResponse<String> call(String target, String token) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(target))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(hookBody()));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  long hooksEvaluated() {
    return meters.find("cds.hook").timers().stream().mapToLong(t -> t.count()).sum();
  }

  void assertRefused(String token) throws Exception {
    long before = hooksEvaluated();
    HttpResponse<String> response = call(url, token);
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body())
        .isEqualTo(
            "{\"error\":\"unauthorized\",\"status\":401,"
                + "\"message\":\"a valid token from a trusted EHR is required\"}");
    assertThat(response.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    assertThat(hooksEvaluated()).as("never reaches the evaluator").isEqualTo(before);
  }

  @Test
  void validEs384TokenIsAccepted() throws Exception {
    HttpResponse<String> response = call(url, es384(c -> {}));
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"cards\":[]}");
  }

  @Test
  void validRs384TokenIsAccepted() throws Exception {
    String token = sign(new RSASSASigner(RS), header(JWSAlgorithm.RS384, "rs-1"), claims().build());
    assertThat(call(url, token).statusCode()).isEqualTo(200);
  }

  @Test
  void discoveryNeedsATokenToo() throws Exception {
    String discovery = "http://localhost:" + port + "/cds-services";
    HttpClient http = HttpClient.newHttpClient();
    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(discovery)).build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(401);
    String token =
        sign(
            new ECDSASigner(ES),
            header(JWSAlgorithm.ES384, "es-1"),
            claims().audience(discovery).build());
    assertThat(
            http.send(
                    HttpRequest.newBuilder(URI.create(discovery))
                        .header("Authorization", "Bearer " + token)
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void missingToken() throws Exception {
    assertRefused(null);
  }

  @Test
  void expired() throws Exception {
    assertRefused(
        es384(
            c ->
                c.issueTime(new Date(System.currentTimeMillis() - 900_000))
                    .expirationTime(new Date(System.currentTimeMillis() - 60_000))));
  }

  @Test
  void issuedInTheFuture() throws Exception {
    assertRefused(es384(c -> c.issueTime(new Date(System.currentTimeMillis() + 300_000))));
  }

  @Test
  void wrongAudienceEvenATrailingSlash() throws Exception {
    assertRefused(es384(c -> c.audience(url + "/")));
    assertRefused(
        es384(
            c ->
                c.audience("http://localhost:" + port + "/cds-services/back-hip-pain-order-sign")));
  }

  @Test
  void unknownKid() throws Exception {
    assertRefused(
        sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "no-such-kid"), claims().build()));
  }

  @Test
  void aForeignKeyWithAKnownKid() throws Exception {
    assertRefused(
        sign(new ECDSASigner(FOREIGN), header(JWSAlgorithm.ES384, "es-1"), claims().build()));
  }

  @Test
  void algNoneWithAndWithoutKid() throws Exception {
    String payload = Base64URL.encode(claims().build().toString()).toString();
    String withKid =
        Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"es-1\"}").toString();
    String withoutKid = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}").toString();
    assertRefused(withKid + "." + payload + ".");
    assertRefused(withoutKid + "." + payload + ".");
  }

  @Test
  void hs256KeyConfusionWithTheRsaPublicKey() throws Exception {
    byte[] publicKeyBytes = RS.toPublicKey().getEncoded();
    assertRefused(
        sign(new MACSigner(publicKeyBytes), header(JWSAlgorithm.HS256, "rs-1"), claims().build()));
    byte[] pem = RS.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8);
    assertRefused(sign(new MACSigner(pem), header(JWSAlgorithm.HS256, "rs-1"), claims().build()));
  }

  @Test
  void replayedJti() throws Exception {
    String token = es384(c -> {});
    assertThat(call(url, token).statusCode()).isEqualTo(200);
    assertRefused(token);
  }

  @Test
  void issuerNotAllowed() throws Exception {
    assertRefused(es384(c -> c.issuer("https://evil.test")));
  }

  @Test
  void typMustBeJwt() throws Exception {
    assertRefused(
        sign(
            new ECDSASigner(ES),
            new JWSHeader.Builder(JWSAlgorithm.ES384)
                .type(new JOSEObjectType("at+jwt"))
                .keyID("es-1")
                .build(),
            claims().build()));
  }

  @Test
  void rs256OnlyWhenConfigured() throws Exception {
    assertRefused(sign(new RSASSASigner(RS), header(JWSAlgorithm.RS256, "rs-1"), claims().build()));
  }

  @Test
  void jkuOnTheAllowListIsUsedAndOneOffTheListIsRefused() throws Exception {
    JWSHeader allowed =
        new JWSHeader.Builder(JWSAlgorithm.ES384)
            .type(JOSEObjectType.JWT)
            .keyID("jku-1")
            .jwkURL(URI.create(keys.baseUrl() + "/allowed-jku.json"))
            .build();
    assertThat(call(url, sign(new ECDSASigner(JKU_KEY), allowed, claims().build())).statusCode())
        .isEqualTo(200);
    JWSHeader other =
        new JWSHeader.Builder(JWSAlgorithm.ES384)
            .type(JOSEObjectType.JWT)
            .keyID("es-1")
            .jwkURL(URI.create(keys.baseUrl() + "/other-jku.json"))
            .build();
    assertRefused(sign(new ECDSASigner(FOREIGN), other, claims().build()));
    keys.verify(0, getRequestedFor(urlEqualTo("/other-jku.json")));
  }

  @Test
  void tenantMustMatchWhenConfigured() throws Exception {
    JWTClaimsSet.Builder wrong = claims().issuer(TENANT_ISS).claim("tenant", "hospital-b");
    assertRefused(sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "es-1"), wrong.build()));
    JWTClaimsSet.Builder right = claims().issuer(TENANT_ISS).claim("tenant", "hospital-a");
    assertThat(
            call(url, sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "es-1"), right.build()))
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void theJwkSetIsFetchedOncePerCachePeriod() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(call(url, es384(c -> {})).statusCode()).isEqualTo(200);
    }
    for (int i = 0; i < 3; i++) {
      assertRefused(
          sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "unknown-" + i), claims().build()));
    }
    keys.verify(1, getRequestedFor(urlEqualTo("/jwks.json")));
  }
}
