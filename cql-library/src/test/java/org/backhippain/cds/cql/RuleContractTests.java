package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.junit.jupiter.api.Test;

/**
 * The build-time gate on the Java-to-CQL contract: the content passes it, a broken rule does not.
 */
class RuleContractTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();

  @Test
  void theContentHoldsTheContract() {
    ContentPackage content = ContentPackage.load(FHIR);
    assertThat(RuleCatalog.contractProblems(content, CqlCompilation.of(content))).isEmpty();
  }

  @Test
  void aRuleNamingAMissingDefineOrAnotherLanguageIsAProblem() {
    ContentPackage content = ContentPackage.load(FHIR); // fresh resources: safe to change
    PlanDefinition pt =
        content.planDefinitions().stream()
            .filter(p -> p.getUrl().endsWith("/pt-referral"))
            .findFirst()
            .orElseThrow();
    var condition = pt.getActionFirstRep().getConditionFirstRep().getExpression();
    condition.setLanguage("text/fhirpath");
    condition.setExpression("No Such Define");
    pt.getActionFirstRep().getTriggerFirstRep().setName(null).setType(null);
    pt.getActionFirstRep().getTrigger().clear();

    assertThat(RuleCatalog.contractProblems(content, CqlCompilation.of(content)))
        .anyMatch(
            p ->
                p.contains("pt-referral") && p.contains("\"No Such Define\" must be a define name"))
        .anyMatch(p -> p.contains("pt-referral") && p.contains("applicability condition must be"))
        .anyMatch(p -> p.contains("pt-referral") && p.contains("no named-event trigger"));
  }
}
