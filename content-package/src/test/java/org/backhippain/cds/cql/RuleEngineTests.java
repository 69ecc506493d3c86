package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.backhippain.cds.fhir.PatientRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The content's cases evaluated directly by the engine (the HTTP suite repeats them end to end).
 */
class RuleEngineTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static ContentPackage content;
  static RuleEngine engine;

  @BeforeAll
  static void start() {
    content = ContentPackage.load(FHIR);
    engine = RuleEngine.start(content, FHIR, Map.of());
  }

  @TestFactory
  Stream<DynamicTest> everyContentCaseGivesExactlyItsExpectedCards() {
    return ContentCase.all(content, FHIR).stream()
        .filter(c -> c.draftOrders() == null)
        .map(c -> DynamicTest.dynamicTest(c.id(), () -> assertCase(c, Map.of())));
  }

  static void assertCase(ContentCase c, Map<String, String> site) {
    RuleEngine e = site.isEmpty() ? engine : RuleEngine.start(content, FHIR, site);
    List<String> fired =
        e.evaluate(new EvaluationInput(record(c), c.hook(), now(c))).stream()
            .filter(RuleResult::applicable)
            .map(r -> r.rule().ruleId())
            .toList();
    assertThat(fired)
        .as(c.id() + ": " + c.description())
        .containsExactlyInAnyOrderElementsOf(c.expectedCards());
  }

  static java.time.ZonedDateTime now(ContentCase c) {
    return c.evaluationDate().atTime(12, 0).atZone(ZoneOffset.UTC);
  }

  static PatientRecord record(ContentCase c) {
    return c.record();
  }

  @Test
  void cardValuesCarryTheEpisodeAndItsFacts() {
    ContentCase c = find("PtReferral/pos-21-days");
    RuleResult result =
        engine.evaluate(new EvaluationInput(record(c), c.hook(), now(c))).stream()
            .filter(r -> r.rule().ruleId().equals("pt-referral"))
            .findFirst()
            .orElseThrow();
    assertThat(result.applicable()).isTrue();
    assertThat(result.card())
        .containsEntry("durationDays", 21)
        .containsEntry("durationClass", "acute")
        .containsEntry("onsetKnown", true);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> facts = (List<Map<String, Object>>) result.card().get("facts");
    assertThat(facts)
        .singleElement()
        .satisfies(
            f -> {
              assertThat(f).containsEntry("type", "Condition");
              assertThat(f).containsEntry("display", "Low back pain");
              assertThat(f).containsEntry("daysAgo", 21);
            });
  }

  @Test
  void aSiteOverridesAThresholdWithoutTouchingCql() {
    ContentCase c = find("PtReferral/pos-21-days");
    RuleEngine strict = RuleEngine.start(content, FHIR, Map.of("PT Referral Minimum Days", "28"));
    assertThat(strict.evaluate(new EvaluationInput(record(c), c.hook(), now(c))))
        .filteredOn(r -> r.rule().ruleId().equals("pt-referral"))
        .singleElement()
        .satisfies(r -> assertThat(r.applicable()).isFalse());
  }

  @Test
  void anUnknownSiteParameterStopsStartUp() {
    assertThatThrownBy(() -> RuleEngine.start(content, FHIR, Map.of("No Such Threshold", "1")))
        .hasMessageContaining("No Such Threshold");
  }

  @Test
  void aMistypedSiteParameterStopsStartUp() {
    assertThatThrownBy(
            () -> RuleEngine.start(content, FHIR, Map.of("PT Referral Minimum Days", "three")))
        .hasMessageContaining("PT Referral Minimum Days");
  }

  static ContentCase find(String id) {
    return ContentCase.all(content, FHIR).stream()
        .filter(c -> c.id().equals(id))
        .findFirst()
        .orElseThrow();
  }
}
