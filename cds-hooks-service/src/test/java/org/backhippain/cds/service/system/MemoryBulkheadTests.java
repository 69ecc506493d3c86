package org.backhippain.cds.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.FilterChain;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/**
 * The memory bulkhead as a caller sees it: while bodies in progress fill the budget, a further
 * request gets 503 with Retry-After (declared length or not); once they finish it is served; a body
 * larger than the whole budget is 413 even under the configured size limit.
 */
class MemoryBulkheadTests {
  static final int KIB = 1024;
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final BodyBudget budget = new BodyBudget(100 * KIB, Duration.ofMillis(200));
  final RequestLimits limits = new RequestLimits(properties(), budget, new CdsMetrics(registry));

  static CdsProperties properties() {
    return new CdsProperties(
        "",
        java.time.ZoneId.of("UTC"),
        Duration.ofMillis(1500),
        20,
        16,
        "test",
        null,
        java.util.List.of("*"),
        org.springframework.util.unit.DataSize.ofMegabytes(16),
        0.5,
        16,
        Duration.ofSeconds(2));
  }

  static MockHttpServletRequest post(int bytes, boolean declareLength) {
    MockHttpServletRequest request =
        new MockHttpServletRequest("POST", "/cds-services/back-hip-pain-patient-view") {
          @Override
          public long getContentLengthLong() {
            return declareLength ? super.getContentLengthLong() : -1;
          }

          @Override
          public int getContentLength() {
            return declareLength ? super.getContentLength() : -1;
          }
        };
    request.setContentType("application/json");
    request.setContent(new byte[bytes]);
    return request;
  }

  /** A chain that reads the whole body, like the JSON parser, then answers 200. */
  static FilterChain reading() {
    return (req, res) -> {
      req.getInputStream().readAllBytes();
      ((jakarta.servlet.http.HttpServletResponse) res).setStatus(200);
    };
  }

  @Test
  void aRequestBeyondTheBudgetWaitsThenGets503AndIsServedOnceRoomIsBack() throws Exception {
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    MockHttpServletResponse first = new MockHttpServletResponse();
    CompletableFuture<Void> inProgress =
        CompletableFuture.runAsync(
            () -> {
              try {
                limits.doFilter(
                    post(80 * KIB, true),
                    first,
                    (req, res) -> {
                      req.getInputStream().readAllBytes();
                      holding.countDown();
                      try {
                        release.await(10, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    });
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();

    for (boolean declared : new boolean[] {true, false}) {
      MockHttpServletResponse refused = new MockHttpServletResponse();
      limits.doFilter(post(40 * KIB, declared), refused, reading());
      assertThat(refused.getStatus()).as("declared length: " + declared).isEqualTo(503);
      assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
      assertThat(refused.getContentAsString()).contains("\"error\":\"overloaded\"");
    }
    assertThat(registry.counter("cds.overloaded").count()).isEqualTo(2);

    release.countDown();
    inProgress.get(10, TimeUnit.SECONDS);
    for (boolean declared : new boolean[] {true, false}) {
      MockHttpServletResponse served = new MockHttpServletResponse();
      limits.doFilter(post(40 * KIB, declared), served, reading());
      assertThat(served.getStatus()).as("declared length: " + declared).isEqualTo(200);
    }
  }

  @Test
  void aBodyLargerThanTheWholeBudgetIs413() throws Exception {
    for (boolean declared : new boolean[] {true, false}) {
      MockHttpServletResponse response = new MockHttpServletResponse();
      limits.doFilter(post(101 * KIB, declared), response, reading());
      assertThat(response.getStatus()).as("declared length: " + declared).isEqualTo(413);
      assertThat(response.getContentAsString()).contains("payload_too_large");
    }
  }
}
