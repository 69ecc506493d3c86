package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * CDS Hooks 2.0 conformance, checked over every answer the content's cases produce (each test names
 * the section of the specification it proves).
 */
@ServiceTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConformanceTests {
  @LocalServerPort int port;
  @Autowired ContentPackage content;
  @Autowired FhirContext fhir;
  @Autowired TestClock clock;
  HookClient client;
  final List<JsonNode> answers = new ArrayList<>();
  final List<JsonNode> cards = new ArrayList<>();
  JsonNode discovery;

  @BeforeAll
  void collectAnswers() {
    client = new HookClient(port);
    discovery = client.get(client.base() + "/cds-services").body();
    for (ContentCase c : ContentCase.all(content, fhir)) {
      clock.set(c.evaluationDate());
      ObjectNode request = HookClient.caseRequest(c, c.hook(), fhir);
      request.put("fhirServer", client.fhirBase());
      var answer = client.post("back-hip-pain-" + c.hook(), request);
      assertThat(answer.status()).isEqualTo(200);
      answers.add(answer.body());
      answer.body().path("cards").forEach(cards::add);
    }
    assertThat(cards).hasSizeGreaterThan(80);
  }

  /** §Use of JSON: optional fields are omitted, never null, "", [] or {} (except "cards": []). */
  @Test
  void useOfJson_noNullOrEmptyOptionalFieldAnywhere() {
    List<String> offences = new ArrayList<>();
    walk(discovery, "discovery", offences);
    for (JsonNode answer : answers) {
      answer.path("cards").forEach(card -> walk(card, "card", offences));
    }
    assertThat(offences).isEmpty();
  }

  private static void walk(JsonNode node, String path, List<String> offences) {
    if (node.isNull()
        || (node.isTextual() && node.asText().isEmpty())
        || (node.isContainerNode() && node.isEmpty())) {
      offences.add(path);
      return;
    }
    if (node.isObject()) {
      node.fields().forEachRemaining(e -> walk(e.getValue(), path + "." + e.getKey(), offences));
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        walk(node.get(i), path + "[" + i + "]", offences);
      }
    }
  }

  /** §Discovery: each service has hook, description, id (required) and title, prefetch. */
  @Test
  void discovery_everyServiceHasTheRequiredFields() {
    assertThat(discovery.path("services")).hasSize(3);
    for (JsonNode service : discovery.path("services")) {
      for (String field : List.of("hook", "description", "id", "title", "prefetch")) {
        assertThat(service.has(field)).as(service.path("id") + "." + field).isTrue();
      }
    }
  }

  /** §Card attributes: uuid (unique per response), summary under 140, indicator, source. */
  @Test
  void cardAttributes_requiredFieldsAndLimits() {
    for (JsonNode answer : answers) {
      Set<String> uuids = new HashSet<>();
      for (JsonNode card : answer.path("cards")) {
        assertThat(uuids.add(card.path("uuid").asText())).as("uuid unique").isTrue();
        assertThat(card.path("summary").asText()).isNotBlank().hasSizeLessThan(140);
        assertThat(card.path("indicator").asText()).isIn("info", "warning", "critical");
        assertThat(card.path("source").path("label").asText()).isEqualTo("Back & Hip Pain CDS");
        assertThat(card.path("source").path("topic").path("system").asText())
            .isEqualTo(ContentPackage.RULE_SYSTEM);
        assertThat(URI.create(card.path("source").path("url").asText()).isAbsolute()).isTrue();
        assertThat(card.path("detail").asText()).contains("**Why**").contains("- Sources: ");
      }
    }
  }

  /** §Suggestion: label, uuid, actions with type and description; selectionBehavior required. */
  @Test
  void suggestions_haveUuidsActionsAndSelectionBehavior() {
    List<JsonNode> withSuggestions = cards.stream().filter(c -> c.has("suggestions")).toList();
    assertThat(withSuggestions).isNotEmpty();
    for (JsonNode card : withSuggestions) {
      assertThat(card.path("selectionBehavior").asText()).isIn("at-most-one", "any");
      for (JsonNode suggestion : card.path("suggestions")) {
        assertThat(suggestion.path("label").asText()).isNotBlank();
        assertThat(suggestion.path("uuid").asText()).matches("[0-9a-f-]{36}");
        assertThat(suggestion.path("actions")).isNotEmpty();
        for (JsonNode action : suggestion.path("actions")) {
          String type = action.path("type").asText();
          assertThat(type).isIn("create", "update", "delete");
          assertThat(action.path("description").asText()).isNotBlank();
          if (type.equals("delete")) {
            assertThat(action.path("resourceId").asText()).matches("[A-Za-z]+/[A-Za-z0-9.-]+");
          } else {
            assertThat(action.path("resource").path("resourceType").asText()).isNotBlank();
          }
        }
      }
    }
  }

  /** §Overriding a card: warning and critical cards carry the reasons, as Codings with display. */
  @Test
  void overrideReasons_onEveryWarningAndCriticalCard() {
    for (JsonNode card : cards) {
      boolean urgent = !card.path("indicator").asText().equals("info");
      assertThat(card.has("overrideReasons")).as(card.path("summary").asText()).isEqualTo(urgent);
      for (JsonNode reason : card.path("overrideReasons")) {
        assertThat(reason.path("system").asText()).isEqualTo(ContentPackage.OVERRIDE_REASON_SYSTEM);
        assertThat(reason.path("code").asText())
            .isIn("not-applicable", "already-addressed", "patient-declined", "clinical-judgment");
        assertThat(reason.path("display").asText()).isNotBlank();
      }
    }
  }

  /** §Link: label, absolute url, type absolute or smart. */
  @Test
  void links_areAbsoluteUrlsWithLabels() {
    List<JsonNode> links = new ArrayList<>();
    cards.forEach(card -> card.path("links").forEach(links::add));
    assertThat(links).isNotEmpty();
    for (JsonNode link : links) {
      assertThat(link.path("label").asText()).isNotBlank();
      assertThat(link.path("type").asText()).isIn("absolute", "smart");
      assertThat(URI.create(link.path("url").asText()).isAbsolute()).isTrue();
    }
  }

  /** Clinical spec §3: one card per rule per response; critical, then warning, then info. */
  @Test
  void cardContract_oneCardPerRuleInIndicatorOrder() {
    Map<String, Integer> rank = Map.of("critical", 0, "warning", 1, "info", 2);
    for (JsonNode answer : answers) {
      List<String> rules = new ArrayList<>();
      List<Integer> order = new ArrayList<>();
      for (JsonNode card : answer.path("cards")) {
        rules.add(card.path("source").path("topic").path("code").asText());
        order.add(rank.get(card.path("indicator").asText()));
      }
      assertThat(rules).doesNotHaveDuplicates();
      assertThat(order).isSorted();
    }
  }
}
