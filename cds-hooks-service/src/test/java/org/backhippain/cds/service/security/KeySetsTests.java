package org.backhippain.cds.service.security;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A JWK Set fetch is bounded in time and bytes whatever the host does: bytes trickling in below the
 * read timeout are cut at the fetch's deadline, a set over 256 KiB is refused, a redirect is not
 * followed; a failed fetch keeps the last good set; refreshes asked for by unknown kids are at most
 * one per interval. Timeouts here are 300 ms.
 */
class KeySetsTests {
  static final WireMockServer host =
      new WireMockServer(WireMockConfiguration.options().dynamicPort());
  static String jwks;

  @BeforeAll
  static void start() throws Exception {
    host.start();
    jwks =
        new JWKSet(new ECKeyGenerator(Curve.P_384).keyID("k").generate().toPublicJWK()).toString();
  }

  @AfterAll
  static void stop() {
    host.stop();
  }

  static KeySets keySets(Duration refreshInterval) {
    return new KeySets(List.of(), Duration.ofMinutes(10), refreshInterval, Duration.ofMillis(300));
  }

  static void serve(
      String path, com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder response) {
    host.stubFor(get(urlEqualTo(path)).willReturn(response));
  }

  @Test
  void aTricklingHostIsCutAtTheDeadline() {
    // 40 chunks over 8 s: each arrives well within the 300 ms read timeout
    serve("/trickle.json", aResponse().withBody(jwks).withChunkedDribbleDelay(40, 8_000));
    try (KeySets sets = keySets(Duration.ofSeconds(30))) {
      long start = System.nanoTime();
      sets.fetch(host.baseUrl() + "/trickle.json");
      long millis = (System.nanoTime() - start) / 1_000_000;
      // the whole exchange may take 2 x 300 ms; liveness bound 5x that, far below the 8 s
      assertThat(millis).isLessThan(3_000);
      assertThat(sets.get(host.baseUrl() + "/trickle.json")).isNull();
    }
  }

  @Test
  void aSetOverTheSizeLimitIsRefusedAndTheLastGoodOneKept() {
    String url = host.baseUrl() + "/growing.json";
    serve("/growing.json", aResponse().withBody(jwks));
    try (KeySets sets = keySets(Duration.ofSeconds(30))) {
      sets.fetch(url);
      assertThat(sets.get(url).getKeyByKeyId("k")).isNotNull();
      serve("/growing.json", aResponse().withBody(jwks + " ".repeat(KeySets.SIZE_LIMIT)));
      sets.fetch(url);
      assertThat(sets.get(url).getKeyByKeyId("k")).as("the last good set").isNotNull();
    }
  }

  @Test
  void aRedirectIsNotFollowed() {
    serve("/target.json", aResponse().withBody(jwks));
    serve("/moved.json", aResponse().withStatus(302).withHeader("Location", "/target.json"));
    try (KeySets sets = keySets(Duration.ofSeconds(30))) {
      sets.fetch(host.baseUrl() + "/moved.json");
      assertThat(sets.get(host.baseUrl() + "/moved.json")).isNull();
      host.verify(0, getRequestedFor(urlEqualTo("/target.json")));
    }
  }

  @Test
  void refreshesAskedForAreAtMostOnePerInterval() throws Exception {
    String url = host.baseUrl() + "/asked.json";
    serve("/asked.json", aResponse().withBody(jwks));
    try (KeySets sets = keySets(Duration.ofSeconds(30))) {
      for (int i = 0; i < 10; i++) {
        sets.refreshSoon(url);
      }
      long deadline = System.nanoTime() + 3_000_000_000L;
      while (sets.get(url) == null && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(sets.get(url)).isNotNull();
      Thread.sleep(200);
      host.verify(1, getRequestedFor(urlEqualTo("/asked.json")));
    }
  }
}
