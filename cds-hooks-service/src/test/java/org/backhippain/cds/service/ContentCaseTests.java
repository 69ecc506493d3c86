package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Every clinical case of the content, through the real HTTP endpoint, with the prefetch an EHR
 * would send and without prefetch (the service reads the demo FHIR server). Order-select cases run
 * through order-sign too. The answer must hold exactly the expected rule ids, and the cards the
 * texts the case expects of them. Cases are data: this class never changes for a new one.
 */
@ServiceTest
class ContentCaseTests {
  @LocalServerPort int port;
  @Autowired ContentPackage content;
  @Autowired FhirContext fhir;
  @Autowired TestClock clock;
  @Autowired RuleEngine engine;

  @TestFactory
  Stream<DynamicContainer> everyCaseGivesExactlyItsExpectedCards() {
    HookClient client = new HookClient(port);
    return ContentCase.all(content, fhir).stream()
        .map(
            c -> {
              List<DynamicTest> tests = new ArrayList<>();
              for (boolean prefetch : List.of(true, false)) {
                String how = prefetch ? "with prefetch" : "without prefetch";
                tests.add(
                    DynamicTest.dynamicTest(
                        c.hook() + ", " + how,
                        () -> assertCase(client, c, c.hook(), prefetch, c.expectedCards())));
                if ("order-select".equals(c.hook())) {
                  tests.add(
                      DynamicTest.dynamicTest(
                          "order-sign, " + how,
                          () -> assertCase(client, c, "order-sign", prefetch, orderSignCards(c))));
                }
              }
              return DynamicContainer.dynamicContainer(c.id(), tests);
            });
  }

  private static List<String> indicators(HookClient.Answer answer) {
    List<String> out = new ArrayList<>();
    answer.body().path("cards").forEach(card -> out.add(card.path("indicator").asText()));
    return out;
  }

  private static int rank(String indicator) {
    return List.of("critical", "warning", "info").indexOf(indicator);
  }

  /** Order-sign shows only warning and critical cards, for every draft. */
  private List<String> orderSignCards(ContentCase c) {
    if (c.expectedCardsOrderSign() != null) {
      return c.expectedCardsOrderSign();
    }
    return c.expectedCards().stream()
        .filter(
            id ->
                engine.catalog().rule(id).orElseThrow().action().getPriority()
                    != PlanDefinition.RequestPriority.ROUTINE)
        .toList();
  }

  private void assertCase(
      HookClient client, ContentCase c, String hook, boolean prefetch, List<String> expected) {
    clock.set(c.evaluationDate());
    String service = "back-hip-pain-" + hook;
    ObjectNode request = HookClient.caseRequest(c, hook, fhir);
    if (!c.unavailable().isEmpty()) {
      // The EHR cannot give these keys: prefetch the rest; then either no fhirServer, or one
      // that refuses connections.
      client.prefetched(request, service, client.fhirBase());
      c.unavailable().forEach(((ObjectNode) request.get("prefetch"))::remove);
      if (!prefetch) {
        request.put("fhirServer", "http://127.0.0.1:9/fhir");
      }
    } else if (prefetch) {
      client.prefetched(request, service, client.fhirBase());
    } else {
      request.put("fhirServer", client.fhirBase());
    }
    var answer = client.post(service, request);
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    assertThat(answer.ruleIds())
        .as(c.id() + " (" + hook + "): " + c.description())
        .containsExactlyInAnyOrderElementsOf(expected);
    assertThat(indicators(answer))
        .as("critical first, then warning, then info")
        .isSortedAccordingTo(java.util.Comparator.comparingInt(ContentCaseTests::rank));
    c.expectedText()
        .forEach(
            (rule, texts) -> {
              if (expected.contains(rule)) {
                JsonNode card = answer.card(rule);
                String shown = card.path("summary").asText() + "\n" + card.path("detail").asText();
                texts.forEach(
                    t -> assertThat(shown).as(c.id() + ": " + rule + " card").contains(t));
              }
            });
    for (String key : c.unavailable()) {
      answer
          .body()
          .path("cards")
          .forEach(
              card -> assertThat(card.path("detail").asText()).contains("not considered: " + key));
    }
  }
}
