package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code jku} host that accepts connections and never answers (allowed for the issuer, so the
 * service does try it) adds nothing to a hook: keys configured for the issuer come first, a token
 * whose {@code kid} is known nowhere is refused at once, and the fetch it asks for runs in the
 * background within its own timeouts. Latencies are compared with a baseline measured here.
 */
class SlowJkuTests extends SecuredService {
  private static final Logger log = LoggerFactory.getLogger(SlowJkuTests.class);

  static String viaSilentJku(String kid) {
    JWSHeader header =
        new JWSHeader.Builder(JWSAlgorithm.ES384)
            .type(JOSEObjectType.JWT)
            .keyID(kid)
            .jwkURL(URI.create(silentJku.url()))
            .build();
    try {
      return sign(new ECDSASigner(ES), header, claims(HOOK_PATH).build());
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aJkuHostThatNeverAnswersDoesNotSlowAHook() throws Exception {
    List<Long> baseline = hookLatencies(9, () -> token(HOOK_PATH));
    int connectionsBefore = silentJku.connections.get();

    // Its kid is known from the issuer's configured set: accepted without asking the jku host.
    List<Long> configuredFirst = hookLatencies(9, () -> viaSilentJku("es-1"));

    // A kid known nowhere: refused at once; a background fetch from the silent host starts.
    long start = System.nanoTime();
    HttpResponse<String> unknown = post(HOOK_PATH, viaSilentJku("rotated-away"), hookBody());
    long refusedMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(unknown.statusCode()).isEqualTo(401);

    // While that fetch hangs (its read timeout is 2 s), hooks go on as before.
    List<Long> whileFetching = hookLatencies(9, () -> viaSilentJku("es-1"));
    long bound = 3 * median(baseline) + 50;
    log.info(
        "hook ms: baseline {}, jku silent (configured key) {}, unknown kid refused in {} ms,"
            + " while the background fetch hangs {}; bound {} ms",
        baseline,
        configuredFirst,
        refusedMillis,
        whileFetching,
        bound);
    assertThat(median(configuredFirst)).isLessThanOrEqualTo(bound);
    assertThat(refusedMillis).isLessThanOrEqualTo(bound);
    assertThat(median(whileFetching)).isLessThanOrEqualTo(bound);
    // The background fetch did go to the silent host (at most one per 2 s refresh interval: if
    // the start-up fetch was less than that ago, a second unknown kid after it asks again).
    int unknownKids = 1;
    for (int attempt = 0;
        attempt < 2 && silentJku.connections.get() == connectionsBefore;
        attempt++) {
      long deadline = System.nanoTime() + 2_500_000_000L;
      while (silentJku.connections.get() == connectionsBefore && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      if (silentJku.connections.get() == connectionsBefore) {
        assertThat(post(HOOK_PATH, viaSilentJku("rotated-away"), hookBody()).statusCode())
            .isEqualTo(401);
        unknownKids++;
      }
    }
    assertThat(silentJku.connections.get() - connectionsBefore).isBetween(1, unknownKids);
  }
}
