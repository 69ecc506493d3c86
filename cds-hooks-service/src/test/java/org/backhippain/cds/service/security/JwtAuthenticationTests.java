package org.backhippain.cds.service.security;

import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The token matrix of CDS Hooks §Trusting CDS Clients, through the real HTTP stack with the JWK
 * Sets served by WireMock: valid ES384 and RS384 tokens pass; every other case is a 401 with one
 * JSON body that never reaches the evaluator. The audience is the configured public base URL plus
 * the path, never the URL the request came in by.
 */
class JwtAuthenticationTests extends SecuredService {
  @Autowired MeterRegistry meters;

  String es384(java.util.function.Consumer<JWTClaimsSet.Builder> change) {
    return token(HOOK_PATH, change);
  }

  HttpResponse<String> call(String token) {
    return post(HOOK_PATH, token, hookBody());
  }

  long hooksEvaluated() {
    return meters.find("cds.hook").timers().stream().mapToLong(t -> t.count()).sum();
  }

  void assertRefused(String token) {
    long before = hooksEvaluated();
    HttpResponse<String> response = call(token);
    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body())
        .isEqualTo(
            "{\"error\":\"unauthorized\",\"status\":401,"
                + "\"message\":\"a valid token from a trusted EHR is required\"}");
    assertThat(response.headers().firstValue("Content-Type"))
        .contains("application/json;charset=UTF-8");
    assertThat(response.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    assertThat(hooksEvaluated()).as("never reaches the evaluator").isEqualTo(before);
  }

  void assertAccepted(String token) {
    HttpResponse<String> response = call(token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("{\"cards\":[]}");
  }

  @Test
  void validEs384TokenIsAccepted() throws Exception {
    assertAccepted(es384(c -> {}));
  }

  @Test
  void validRs384TokenIsAccepted() throws Exception {
    assertAccepted(
        sign(new RSASSASigner(RS), header(JWSAlgorithm.RS384, "rs-1"), claims(HOOK_PATH).build()));
  }

  @Test
  void eachConfiguredIngressIsAnAudience() throws Exception {
    assertAccepted(es384(c -> c.audience(SECOND_INGRESS + HOOK_PATH)));
  }

  @Test
  void discoveryNeedsATokenToo() throws Exception {
    assertThat(get("/cds-services", null).statusCode()).isEqualTo(401);
    assertThat(get("/cds-services", token("/cds-services")).statusCode()).isEqualTo(200);
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
    long now = System.currentTimeMillis();
    assertRefused(
        es384(c -> c.issueTime(new Date(now + 300_000)).expirationTime(new Date(now + 600_000))));
  }

  @Test
  void theSkewIsThirtySecondsNotSpringsSixty() throws Exception {
    long now = System.currentTimeMillis();
    assertRefused(
        es384(c -> c.issueTime(new Date(now - 300_000)).expirationTime(new Date(now - 45_000))));
    assertAccepted(
        es384(c -> c.issueTime(new Date(now - 250_000)).expirationTime(new Date(now - 15_000))));
    assertRefused(
        es384(c -> c.issueTime(new Date(now + 45_000)).expirationTime(new Date(now + 300_000))));
    assertAccepted(
        es384(c -> c.issueTime(new Date(now + 15_000)).expirationTime(new Date(now + 300_000))));
  }

  @Test
  void notBeforeInTheFuture() throws Exception {
    long now = System.currentTimeMillis();
    assertRefused(es384(c -> c.notBeforeTime(new Date(now + 120_000))));
    assertAccepted(es384(c -> c.notBeforeTime(new Date(now + 10_000))));
  }

  @Test
  void aLifetimeOverFiveMinutesPlusSkewIsRefused() throws Exception {
    long now = System.currentTimeMillis();
    assertRefused(es384(c -> c.issueTime(new Date(now)).expirationTime(new Date(now + 331_000))));
    assertRefused(es384(c -> c.issueTime(new Date(now)).expirationTime(new Date(now + 3_600_000))));
    assertAccepted(es384(c -> c.issueTime(new Date(now)).expirationTime(new Date(now + 330_000))));
  }

  @Test
  void wrongAudienceEvenATrailingSlash() throws Exception {
    assertRefused(es384(c -> c.audience(PUBLIC + HOOK_PATH + "/")));
    assertRefused(es384(c -> c.audience(PUBLIC + "/cds-services/back-hip-pain-order-sign")));
  }

  @Test
  void theAudienceIsNeverTheUrlTheRequestCameInBy() throws Exception {
    assertRefused(es384(c -> c.audience(url(HOOK_PATH))));
  }

  @Test
  void unknownKid() throws Exception {
    assertRefused(
        sign(
            new ECDSASigner(ES),
            header(JWSAlgorithm.ES384, "no-such-kid"),
            claims(HOOK_PATH).build()));
  }

  @Test
  void aForeignKeyWithAKnownKid() throws Exception {
    assertRefused(
        sign(
            new ECDSASigner(FOREIGN),
            header(JWSAlgorithm.ES384, "es-1"),
            claims(HOOK_PATH).build()));
  }

  @Test
  void aTamperedPayloadIsRefused() throws Exception {
    String[] parts = es384(c -> {}).split("\\.");
    String forged =
        Base64URL.encode(
                claims(HOOK_PATH).issuer(ISS).claim("tenant", "someone-else").build().toString())
            .toString();
    assertRefused(parts[0] + "." + forged + "." + parts[2]);
  }

  @Test
  void algNoneWithAndWithoutKid() throws Exception {
    String payload = Base64URL.encode(claims(HOOK_PATH).build().toString()).toString();
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
        sign(
            new MACSigner(publicKeyBytes),
            header(JWSAlgorithm.HS256, "rs-1"),
            claims(HOOK_PATH).build()));
    byte[] pem = RS.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8);
    assertRefused(
        sign(new MACSigner(pem), header(JWSAlgorithm.HS256, "rs-1"), claims(HOOK_PATH).build()));
  }

  @Test
  void replayedJti() throws Exception {
    String token = es384(c -> {});
    assertAccepted(token);
    assertRefused(token);
  }

  @Test
  void aTokenRefusedForAnotherReasonDoesNotUseUpItsJti() throws Exception {
    String jti = UUID.randomUUID().toString();
    assertRefused(es384(c -> c.jwtID(jti).audience(PUBLIC + "/cds-services")));
    assertRefused(
        es384(c -> c.jwtID(jti).issueTime(new Date(System.currentTimeMillis() + 90_000))));
    assertAccepted(es384(c -> c.jwtID(jti)));
    assertRefused(es384(c -> c.jwtID(jti)));
  }

  @Test
  void noJti() throws Exception {
    assertRefused(es384(c -> c.jwtID(null)));
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
            claims(HOOK_PATH).build()));
    assertRefused(
        sign(
            new ECDSASigner(ES),
            new JWSHeader.Builder(JWSAlgorithm.ES384).keyID("es-1").build(),
            claims(HOOK_PATH).build()));
  }

  @Test
  void rs256OnlyWhenConfigured() throws Exception {
    assertRefused(
        sign(new RSASSASigner(RS), header(JWSAlgorithm.RS256, "rs-1"), claims(HOOK_PATH).build()));
  }

  @Test
  void jkuOnTheAllowListIsUsedAndOneOffTheListIsRefused() throws Exception {
    JWSHeader allowed =
        new JWSHeader.Builder(JWSAlgorithm.ES384)
            .type(JOSEObjectType.JWT)
            .keyID("jku-1")
            .jwkURL(URI.create(keys.baseUrl() + "/allowed-jku.json"))
            .build();
    assertAccepted(sign(new ECDSASigner(JKU_KEY), allowed, claims(HOOK_PATH).build()));
    JWSHeader other =
        new JWSHeader.Builder(JWSAlgorithm.ES384)
            .type(JOSEObjectType.JWT)
            .keyID("es-1")
            .jwkURL(URI.create(keys.baseUrl() + "/other-jku.json"))
            .build();
    assertRefused(sign(new ECDSASigner(FOREIGN), other, claims(HOOK_PATH).build()));
    keys.verify(0, getRequestedFor(urlEqualTo("/other-jku.json")));
  }

  @Test
  void tenantMustMatchWhenConfigured() throws Exception {
    JWTClaimsSet.Builder wrong = claims(HOOK_PATH).issuer(TENANT_ISS).claim("tenant", "hospital-b");
    assertRefused(sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "es-1"), wrong.build()));
    assertRefused(
        sign(
            new ECDSASigner(ES),
            header(JWSAlgorithm.ES384, "es-1"),
            claims(HOOK_PATH).issuer(TENANT_ISS).build()));
    JWTClaimsSet.Builder right = claims(HOOK_PATH).issuer(TENANT_ISS).claim("tenant", "hospital-a");
    assertAccepted(sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "es-1"), right.build()));
  }

  @Test
  void unknownKidsAreRefusedAtOnceAndFetchTheSetAtMostOncePerInterval() throws Exception {
    int before =
        keys.countRequestsMatching(getRequestedFor(urlEqualTo("/jwks.json")).build()).getCount();
    long start = System.nanoTime();
    for (int i = 0; i < 5; i++) {
      assertRefused(
          sign(
              new ECDSASigner(ES),
              header(JWSAlgorithm.ES384, "unknown-" + i),
              claims(HOOK_PATH).build()));
    }
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    Thread.sleep(500);
    int fetches =
        keys.countRequestsMatching(getRequestedFor(urlEqualTo("/jwks.json")).build()).getCount()
            - before;
    // jwks-refresh-interval is 2 s in this context
    assertThat(fetches).isLessThanOrEqualTo(1 + (int) (elapsedMillis / 2000));
    for (int i = 0; i < 5; i++) {
      assertAccepted(es384(c -> {}));
    }
  }

  @Test
  void aKeyAddedToTheIssuersSetIsFetchedInTheBackgroundAfterAnUnknownKid() throws Exception {
    ECKey added = new ECKeyGenerator(Curve.P_384).keyID("r-2").generate();
    serveKeys(
        "/rotating.json", new JWKSet(List.of(ROTATED_OUT.toPublicJWK(), added.toPublicJWK())));
    int status = 0;
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (status != 200 && System.nanoTime() < deadline) {
      HttpResponse<String> response =
          call(
              sign(
                  new ECDSASigner(added),
                  header(JWSAlgorithm.ES384, "r-2"),
                  claims(HOOK_PATH).issuer(ROTATING_ISS).build()));
      status = response.statusCode();
      assertThat(status).isIn(200, 401);
      if (status != 200) {
        Thread.sleep(250);
      }
    }
    assertThat(status).as("accepted once the background refresh has run").isEqualTo(200);
    keys.verify(
        com.github.tomakehurst.wiremock.client.WireMock.moreThanOrExactly(2),
        getRequestedFor(urlEqualTo("/rotating.json")));
  }
}
