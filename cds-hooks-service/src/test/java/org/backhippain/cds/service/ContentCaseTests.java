package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.stream.Stream;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Every clinical case of the content, through the real HTTP endpoint, twice: with the prefetch an
 * EHR would send, and without prefetch (the service reads the demo FHIR server). The answer must
 * hold exactly the case's expected rule ids. Cases are data: this class never changes for a new
 * one.
 */
@ServiceTest
class ContentCaseTests {

  @LocalServerPort int port;
  @Autowired ContentPackage content;
  @Autowired FhirContext fhir;
  @Autowired TestClock clock;

  @TestFactory
  Stream<DynamicContainer> everyCaseGivesExactlyItsExpectedCards() {
    HookClient client = new HookClient(port);
    return ContentCase.all(content, fhir).stream()
        .map(
            c ->
                DynamicContainer.dynamicContainer(
                    c.id(),
                    Stream.of(
                        DynamicTest.dynamicTest("with prefetch", () -> assertCase(client, c, true)),
                        DynamicTest.dynamicTest(
                            "without prefetch", () -> assertCase(client, c, false)))));
  }

  private void assertCase(HookClient client, ContentCase c, boolean prefetch) {
    clock.set(c.evaluationDate());
    String service = "back-hip-pain-" + c.hook();
    ObjectNode request = HookClient.request(c.hook(), c.patientId());
    if (prefetch) {
      client.prefetched(request, service, client.fhirBase());
    } else {
      request.put("fhirServer", client.fhirBase());
    }
    var answer = client.post(service, request);
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    assertThat(answer.ruleIds())
        .as(c.id() + ": " + c.description())
        .containsExactlyInAnyOrderElementsOf(c.expectedCards());
  }
}
