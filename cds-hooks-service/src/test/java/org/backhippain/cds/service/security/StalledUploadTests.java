package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.backhippain.cds.service.RawHttp;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads that stall cannot take the service down. Tomcat has {@value SecuredService#THREADS}
 * threads here; three times as many uploads stall half-way. Unauthenticated ones are answered 401
 * at once, with {@code Connection: close}, and the connection is closed (their body is never read
 * nor drained, no memory reserved for it); authenticated ones hold no thread while their body
 * trickles in and get 408 at the 2 s deadline. Meanwhile an authenticated hook answers 200, as fast
 * as before (relative to a baseline measured here).
 */
class StalledUploadTests extends SecuredService {
  private static final Logger log = LoggerFactory.getLogger(StalledUploadTests.class);
  static final int STALLED = 3 * THREADS;

  /** Liveness bound relative to the baseline: generous, far below a stalled thread's seconds. */
  static long bound(List<Long> baseline) {
    return 5 * median(baseline) + 200;
  }

  @Test
  void stalledUnauthenticatedUploadsNeitherDelayNorRefuseAnAuthenticatedHook() {
    List<Long> baseline = hookLatencies(7, () -> token(HOOK_PATH));
    List<RawHttp> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < STALLED; i++) {
        // each declares 90 KiB, most of the 100 KiB memory budget
        stalled.add(stall(null, 90 * 1024));
      }
      for (RawHttp upload : stalled) {
        RawHttp.Response answer = upload.response();
        assertThat(answer.status()).isEqualTo(401);
        assertThat(answer.header("connection")).isEqualTo("close");
      }
      // The uploads stay stalled (this side keeps them open): the server must not be reading them.
      List<Long> during = hookLatencies(7, () -> token(HOOK_PATH));
      log.info("hook ms, baseline {} / with {} stalled uploads {}", baseline, STALLED, during);
      assertThat(median(during)).isLessThanOrEqualTo(bound(baseline));
      for (RawHttp upload : stalled) {
        assertThat(upload.closedByServer(5_000))
            .as("the connection is closed, the body never drained")
            .isTrue();
      }
    } finally {
      stalled.forEach(RawHttp::close);
    }
  }

  /**
   * Paths open to anyone take no body: one stalled there is never read — answered at once, the
   * connection closed — so it holds no memory (each declares most of the budget) and no wait.
   */
  @Test
  void stalledUploadsToOpenPathsAreNeverReadNorHoldMemory() {
    List<Long> baseline = hookLatencies(7, () -> token(HOOK_PATH));
    List<RawHttp> stalled = new ArrayList<>();
    List<String> open = List.of("/actuator/health", "/review/", "/handouts/x", "/error");
    try {
      for (int i = 0; i < STALLED; i++) {
        stalled.add(stall(null, 90 * 1024, open.get(i % open.size())));
      }
      for (RawHttp upload : stalled) {
        RawHttp.Response answer = upload.response();
        // answered at once, whatever the path answers a POST (no 408 after the read deadline)
        assertThat(answer.status()).isNotIn(408, 413, 503);
      }
      List<Long> during = hookLatencies(7, () -> token(HOOK_PATH));
      log.info("hook ms, baseline {} / with {} stalled open uploads {}", baseline, STALLED, during);
      assertThat(median(during)).isLessThanOrEqualTo(bound(baseline));
      for (RawHttp upload : stalled) {
        assertThat(upload.closedByServer(5_000)).as("closed, the body never read").isTrue();
      }
    } finally {
      stalled.forEach(RawHttp::close);
    }
  }

  @Test
  void stalledAuthenticatedUploadsHoldNoThreadAndGet408AtTheDeadline() {
    List<Long> baseline = hookLatencies(7, () -> token(HOOK_PATH));
    List<RawHttp> stalled = new ArrayList<>();
    long start = System.nanoTime();
    try {
      for (int i = 0; i < STALLED; i++) {
        stalled.add(stall(token(HOOK_PATH), i % 2 == 0 ? 1000 : -1));
      }
      List<Long> during = hookLatencies(7, () -> token(HOOK_PATH));
      log.info("hook ms, baseline {} / with {} stalled uploads {}", baseline, STALLED, during);
      assertThat(median(during)).isLessThanOrEqualTo(bound(baseline));
      for (RawHttp upload : stalled) {
        RawHttp.Response answer = upload.response();
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(answer.status()).isEqualTo(408);
        assertThat(answer.header("connection")).isEqualTo("close");
        assertThat(answer.body()).contains("\"error\":\"request_timeout\"");
        // the deadline is 2 s; Tomcat checks async timeouts once a second (liveness bound: 10 s)
        assertThat(millis).isBetween(2_000L, 10_000L);
      }
    } finally {
      stalled.forEach(RawHttp::close);
    }
  }
}
