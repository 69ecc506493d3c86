package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.LocalDate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * A FHIR server's answer is bounded in bytes as well as time: a 150 MB searchset (declared or
 * chunked) and an endless one are abandoned at the response cap — the connection closed, the server
 * sees it — the hook answers within the budget, and the next hook is served as usual. (The same at
 * {@code -Xmx256m}, in parallel, without an OutOfMemoryError: {@link FreshInstanceTests}.)
 */
@ServiceTest
class FetchBoundsTests {
  static final String SERVICE = "back-hip-pain-patient-view";
  static final String PATIENT = "bounds-patient";
  static final long BOUND_MS = 2_500;
  static final long HUGE = 150L << 20;
  static StreamingFhirServer ehr;

  @LocalServerPort int port;
  @Autowired TestClock clock;
  HookClient client;

  @BeforeAll
  static void start() {
    ehr = new StreamingFhirServer(PATIENT);
  }

  @AfterAll
  static void stop() {
    ehr.close();
  }

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
    clock.set(LocalDate.parse("2026-06-15"));
    ehr.reset();
  }

  HookClient.Answer call(String what) {
    ObjectNode request = HookClient.request("patient-view", PATIENT);
    request.put("fhirServer", ehr.base());
    HookClient.Answer answer = client.post(SERVICE, request);
    System.out.printf(
        "BOUNDS %-28s -> HTTP %d in %d ms; server wrote %d bytes, saw %d disconnects: %s%n",
        what,
        answer.status(),
        answer.millis(),
        ehr.bytesWritten.get(),
        ehr.disconnects.get(),
        answer.status() == 200 ? answer.ruleIds() : answer.body().path("message").asText());
    return answer;
  }

  /** The stub sees the connection closed and writes nothing more. */
  void assertReadingStopped() throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (ehr.disconnects.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(ehr.disconnects.get()).as("the server saw the connection closed").isEqualTo(1);
    long written = ehr.bytesWritten.get();
    Thread.sleep(300);
    assertThat(ehr.bytesWritten.get()).as("nothing written after the close").isEqualTo(written);
    assertThat(written).as("bytes written before the close").isLessThan(HUGE / 2);
  }

  void assertNextHookServed() {
    ehr.reset();
    HookClient.Answer next = call("next hook, healthy server");
    assertThat(next.status()).isEqualTo(200);
    assertThat(next.ruleIds()).contains("pt-referral");
    assertThat(next.raw()).doesNotContain("not considered");
  }

  @Test
  void a150MegabyteSearchsetWithItsLengthDeclaredIsRefusedUnread() throws Exception {
    assertHugeRefused(true, "150 MB, Content-Length");
  }

  @Test
  void a150MegabyteChunkedSearchsetIsCutAtTheCap() throws Exception {
    assertHugeRefused(false, "150 MB, chunked");
  }

  void assertHugeRefused(boolean declared, String what) throws Exception {
    ehr.set("Condition", new StreamingFhirServer.Huge(HUGE, declared));
    HookClient.Answer answer = call(what);
    assertThat(answer.status()).isEqualTo(412);
    assertThat(answer.body().path("message").asText()).contains("conditions").contains("too large");
    assertThat(answer.millis()).isLessThan(BOUND_MS);
    assertReadingStopped();
    assertNextHookServed();
  }

  @Test
  void anEndlessSearchsetIsCutAtTheCapAndTheKeyNamed() throws Exception {
    ehr.set("Observation", new StreamingFhirServer.Endless());
    HookClient.Answer answer = call("endless");
    assertThat(answer.status()).isEqualTo(200);
    answer
        .body()
        .path("cards")
        .forEach(
            card -> assertThat(card.path("detail").asText()).contains("considered: observations"));
    assertThat(answer.millis()).isLessThan(BOUND_MS);
    assertReadingStopped();
    assertNextHookServed();
  }
}
