package org.backhippain.cds.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.backhippain.cds.service.RawHttp;
import org.backhippain.cds.service.security.SecuredService;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The memory bulkhead as a caller sees it, over HTTP with a 100 KiB budget: while an authenticated
 * body in progress holds most of it, a further request gets 503 with Retry-After (declared length
 * or not); once that body is given up (408 at its deadline) the same request is served; a body
 * larger than the whole budget is 413 even under the configured size limit.
 */
class MemoryBulkheadTests extends SecuredService {
  static final int KIB = 1024;
  @Autowired MeterRegistry meters;

  /** A valid hook request padded with whitespace to {@code bytes}. */
  static byte[] hookOf(int bytes) {
    String body = hookBody();
    return (body + " ".repeat(bytes - body.length())).getBytes(StandardCharsets.UTF_8);
  }

  HttpResponse<String> post(byte[] body, boolean declareLength) {
    HttpRequest.BodyPublisher publisher =
        declareLength
            ? HttpRequest.BodyPublishers.ofByteArray(body)
            : HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body));
    return send(
        HttpRequest.newBuilder(URI.create(url(HOOK_PATH)))
            .header("Content-Type", "application/json")
            .POST(publisher),
        token(HOOK_PATH));
  }

  double overloaded() {
    return meters.counter("cds.overloaded").count();
  }

  @Test
  void aRequestBeyondTheBudgetWaitsThenGets503AndIsServedOnceRoomIsBack() throws Exception {
    double before = overloaded();
    try (RawHttp holder = stall(token(HOOK_PATH), 80 * KIB)) {
      // The holder reserves its declared 80 KiB once authenticated; until then a probe may pass.
      HttpResponse<String> refused = post(hookOf(40 * KIB), true);
      long deadline = System.nanoTime() + 1_500_000_000L;
      while (refused.statusCode() == 200 && System.nanoTime() < deadline) {
        refused = post(hookOf(40 * KIB), true);
      }
      assertThat(refused.statusCode()).as("declared length").isEqualTo(503);
      assertThat(refused.headers().firstValue("Retry-After")).contains("1");
      assertThat(refused.body()).contains("\"error\":\"overloaded\"");
      HttpResponse<String> chunked = post(hookOf(40 * KIB), false);
      assertThat(chunked.statusCode()).as("no declared length").isEqualTo(503);
      assertThat(chunked.headers().firstValue("Retry-After")).contains("1");
      assertThat(overloaded() - before).isEqualTo(2);

      assertThat(holder.response().status())
          .as("the holder gives up at its deadline")
          .isEqualTo(408);
    }
    for (boolean declared : new boolean[] {true, false}) {
      HttpResponse<String> served = post(hookOf(40 * KIB), declared);
      assertThat(served.statusCode()).as("declared length: " + declared).isEqualTo(200);
      assertThat(served.body()).isEqualTo("{\"cards\":[]}");
    }
  }

  @Test
  void aBodyLargerThanTheWholeBudgetIs413() {
    for (boolean declared : new boolean[] {true, false}) {
      HttpResponse<String> response = post(hookOf(BUDGET + KIB), declared);
      assertThat(response.statusCode()).as("declared length: " + declared).isEqualTo(413);
      assertThat(response.body()).contains("payload_too_large");
    }
  }
}
