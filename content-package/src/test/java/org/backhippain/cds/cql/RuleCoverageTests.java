package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.CodeSystem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every rule of the clinical spec (§5, the rules CodeSystem) has a PlanDefinition, at least one
 * positive case and at least one negative case in its own library's folder; every expected rule id
 * of every case is a rule. (That each case returns exactly its expected cards is checked by
 * RuleEngineTests and, over HTTP, by ContentCaseTests.)
 */
class RuleCoverageTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final List<String> SPEC_RULES =
      List.of(
          "cauda-equina",
          "red-flag-malignancy",
          "red-flag-infection",
          "red-flag-fracture",
          "inflammatory-back-pain",
          "imaging-not-indicated",
          "pt-referral",
          "self-care",
          "hip-or-back",
          "gynecologic-cause",
          "smoking-cessation",
          "pt-access",
          "systemic-steroid-caution",
          "opioid-first-line-caution",
          "flank-pain-renal",
          "surgical-consult");
  static ContentPackage content;
  static List<ContentCase> cases;
  static RuleCatalog catalog;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FHIR);
    cases = ContentCase.all(content, FHIR);
    catalog = RuleCatalog.of(content);
  }

  @Test
  void theRuleCodeSystemIsExactlyTheSpecRules() {
    CodeSystem rules = content.codeSystem(ContentPackage.RULE_SYSTEM).orElseThrow();
    assertThat(rules.getConcept())
        .extracting(CodeSystem.ConceptDefinitionComponent::getCode)
        .containsExactlyInAnyOrderElementsOf(SPEC_RULES);
  }

  @Test
  void everyRuleHasExactlyOnePlanDefinition() {
    assertThat(catalog.rules())
        .extracting(RuleDefinition::ruleId)
        .containsExactlyInAnyOrderElementsOf(SPEC_RULES);
  }

  @Test
  void everyExpectedRuleIdIsARule() {
    Set<String> known = Set.copyOf(SPEC_RULES);
    assertThat(cases).allSatisfy(c -> assertThat(known).as(c.id()).containsAll(c.expectedCards()));
  }

  @TestFactory
  Stream<DynamicTest> everyRuleHasAPositiveAndANegativeCase() {
    Map<String, String> libraryOf =
        catalog.rules().stream()
            .collect(Collectors.toMap(RuleDefinition::ruleId, RuleDefinition::libraryName));
    return SPEC_RULES.stream()
        .map(
            rule ->
                DynamicTest.dynamicTest(
                    rule,
                    () -> {
                      assertThat(cases)
                          .as("a case expecting " + rule)
                          .anyMatch(c -> c.expectedCards().contains(rule));
                      assertThat(cases)
                          .as("a case in " + libraryOf.get(rule) + " where " + rule + " is silent")
                          .anyMatch(
                              c ->
                                  c.library().equals(libraryOf.get(rule))
                                      && !c.expectedCards().contains(rule));
                    }));
  }
}
