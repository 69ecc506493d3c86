package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.junit.jupiter.api.Test;

/**
 * The build-time gate on the Java-to-CQL contract: the content passes it, a broken rule does not.
 */
class RuleContractTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();

  /** A translation (it has the result types the card-text check needs); the CQL never changes. */
  static CqlCompilation translated;

  @org.junit.jupiter.api.BeforeAll
  static void translate() {
    translated = Translation.get();
  }

  @Test
  void theContentHoldsTheContract() {
    ContentPackage content = ContentPackage.load(FHIR);
    assertThat(RuleCatalog.contractProblems(content, CqlCompilation.of(content))).isEmpty();
    // A translation has the result types: the card templates are checked against them too.
    assertThat(RuleCatalog.contractProblems(content, translated)).isEmpty();
  }

  @Test
  void aRuleApplicableWithoutCommonsScopeFirstBreaksTheContract() {
    ContentPackage content = ContentPackage.load(FHIR);
    CqlCompilation compilation = CqlCompilation.of(content); // its own ELM: safe to change
    for (RuleDefinition rule : RuleCatalog.of(content).rules()) {
      assertThat(RuleCatalog.gatedByScope(compilation, content.cql().get(rule.libraryName())))
          .as(rule.ruleId())
          .isTrue();
    }
    org.hl7.elm.r1.ExpressionDef applicable =
        compilation
            .compiled(content.cql().get("SurgicalConsult"))
            .getLibrary()
            .getStatements()
            .getDef()
            .stream()
            .filter(d -> d.getName().equals(RuleCatalog.APPLICABLE))
            .findFirst()
            .orElseThrow();
    // Keep only the last conjunct: no leading Common."In Scope", so out-of-scope patients would
    // be evaluated.
    applicable.setExpression(((org.hl7.elm.r1.And) applicable.getExpression()).getOperand().get(1));

    assertThat(RuleCatalog.contractProblems(content, compilation))
        .singleElement()
        .asString()
        .contains("SurgicalConsult")
        .contains("must start with Common.\"In Scope\" and");
  }

  @Test
  void aCardTemplateUsingANameTheCqlDoesNotGiveIsAProblem() {
    ContentPackage content = ContentPackage.load(FHIR); // fresh resources: safe to change
    PlanDefinition pt = plan(content, "/pt-referral");
    pt.getActionFirstRep().setTitle("Back or hip pain for {{durationDayz}}");
    pt.getActionFirstRep().setDescription("{{#facts}}{{display}}{{/facts}} {{display}}");
    pt.getActionFirstRep().getActionFirstRep().setTitle("{{#swapToPt}}Refer{{/swapToPt}}");
    PlanDefinition steroid = plan(content, "/systemic-steroid-caution");
    steroid.getActionFirstRep().setDescription("{{> no-such-partial}}");

    assertThat(RuleCatalog.contractProblems(content, translated))
        .anyMatch(p -> p.contains("/pt-referral") && p.contains("'durationDayz'"))
        .as("a fact's field outside the facts section")
        .anyMatch(p -> p.contains("/pt-referral") && p.contains("'display'"))
        .as("a section of another rule's details")
        .anyMatch(p -> p.contains("/pt-referral") && p.contains("'swapToPt'"))
        .anyMatch(p -> p.contains("/systemic-steroid-caution") && p.contains("no-such-partial"))
        .hasSize(4);
  }

  @Test
  void cardTextRendersStrictly() {
    var compiler = CardTemplates.compiler(ContentPackage.load(FHIR));
    java.util.Map<String, Object> values = new java.util.HashMap<>();
    values.put("durationText", "3 days");
    values.put("detail", null);
    assertThatThrownBy(() -> compiler.compile("for {{durationDayz}}").execute(values))
        .hasMessageContaining("durationDayz");
    assertThatThrownBy(() -> compiler.compile("{{#swapToPt}}x{{/swapToPt}}").execute(values))
        .hasMessageContaining("swapToPt");
    assertThat(compiler.compile("for {{durationText}}{{detail}}").execute(values))
        .as("a value that is there but null prints as nothing")
        .isEqualTo("for 3 days");
  }

  static PlanDefinition plan(ContentPackage content, String urlEnd) {
    return content.planDefinitions().stream()
        .filter(p -> p.getUrl().endsWith(urlEnd))
        .findFirst()
        .orElseThrow();
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
