package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hl7.cql.model.DataType;
import org.hl7.cql.model.ListType;
import org.hl7.cql.model.SimpleType;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The card text a CPG engine shows comes from the same templates: the build generates the CardText
 * library from them (CardText), and every packaged PlanDefinition names its defines. Whether the
 * generated text equals the service's for every case is the portability module's test; here, the
 * translation of each template construct and its strictness.
 */
class CardTextTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static ContentPackage content;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FHIR);
  }

  static Map<String, CardText.Field> fields() {
    Map<String, CardText.Field> fields = new LinkedHashMap<>();
    fields.put("durationText", field("R.\"Card\".durationText", "System.String"));
    fields.put("days", field("R.\"Card Details\".days", "System.Integer"));
    fields.put("swap", field("R.\"Card Details\".swap", "System.Boolean"));
    fields.put("ratio", field("R.\"Card Details\".ratio", "System.Decimal"));
    fields.put(
        "drafts",
        new CardText.Field(
            "R.\"Card Details\".drafts",
            new ListType(new SimpleType("System.String", null, null))));
    return fields;
  }

  static CardText.Field field(String cql, String type) {
    return new CardText.Field(cql, (DataType) new SimpleType(type, null, null));
  }

  @Test
  void variablesSectionsListsAndPartialsBecomeCql() {
    assertThat(CardText.translate(content, "Pain for {{durationText}}, {{days}} days", fields()))
        .isEqualTo(
            "'Pain for '\n    & (R.\"Card\".durationText)\n    & ', '\n"
                + "    & (ToString(R.\"Card Details\".days))\n    & ' days'");
    assertThat(
            CardText.translate(
                content, "{{#swap}}PT{{/swap}}{{^swap}}self-care{{/swap}}", fields()))
        .isEqualTo(
            "(if Coalesce(R.\"Card Details\".swap, false) then ('PT') else '')\n"
                + "    & (if not Coalesce(R.\"Card Details\".swap, false) then ('self-care') else '')");
    assertThat(
            CardText.translate(
                content, "Drafts: {{#drafts}}{{.}}{{^-last}}, {{/-last}}{{/drafts}}.", fields()))
        .isEqualTo(
            "'Drafts: '\n    & (Combine((R.\"Card Details\".drafts) X1 return X1, ', '))\n    & '.'");
    // a partial is inlined; the text is stripped as the service strips it; quotes are escaped
    assertThat(CardText.translate(content, "  {{> pt-access}}\n", ptAccessFields()))
        .startsWith(
            "(if Coalesce(P.referralRequired, false) then ('This patient\\'s plan is an HMO")
        .doesNotContain("{{");
  }

  static Map<String, CardText.Field> ptAccessFields() {
    Map<String, CardText.Field> fields = new LinkedHashMap<>();
    for (String flag :
        new String[] {"referralRequired", "directAccess", "coverageUnknown", "radicular"}) {
      fields.put(flag, field("P." + flag, "System.Boolean"));
    }
    return fields;
  }

  /** The strict-template check applies to the generation: what the CQL does not give fails it. */
  @Test
  void aNameTheCqlDoesNotGiveOrATextlessTypeFailsTheGeneration() {
    assertThatThrownBy(() -> CardText.translate(content, "for {{durationDayz}}", fields()))
        .hasMessageContaining("durationDayz");
    assertThatThrownBy(() -> CardText.translate(content, "{{#swapToPt}}x{{/swapToPt}}", fields()))
        .hasMessageContaining("swapToPt");
    assertThatThrownBy(() -> CardText.translate(content, "{{ratio}}", fields()))
        .hasMessageContaining("System.Decimal");
    assertThatThrownBy(
            () -> CardText.translate(content, "{{#drafts}}{{-index}}. {{.}}{{/drafts}}", fields()))
        .hasMessageContaining("only a trailing {{^-last}}separator{{/-last}}");
  }

  @Test
  void theBuildFailsOnATemplateItCannotGenerate() {
    ContentPackage fresh = ContentPackage.load(FHIR); // fresh resources: safe to change
    PlanDefinition pt = RuleContractTests.plan(fresh, "/pt-referral");
    pt.getActionFirstRep().setTitle("Back or hip pain for {{durationDayz}}");
    CqlCompilation translated = Translation.get();
    assertThatThrownBy(
            () ->
                CardText.generate(fresh, translated, RuleCatalog.of(fresh), PackageBuilder.VERSION))
        .hasMessageContaining("/pt-referral: action pt-referral title")
        .hasMessageContaining("durationDayz");
  }

  /** Every packaged rule's card text templates are named by its dynamic values, and resolve. */
  @Test
  void everyTemplatedTextHasADynamicValueNamingACardTextDefine() {
    String cardText = ContentPackage.CANONICAL_BASE + "/Library/" + CardText.LIBRARY;
    int named = 0;
    for (RuleDefinition rule : RuleCatalog.of(content).rules()) {
      named += dynamicValues(rule.action(), cardText);
    }
    assertThat(named).isEqualTo(11);
    assertThat(content.cql().get(CardText.LIBRARY).text())
        .contains("GENERATED by the build")
        .contains("define \"pt-referral title\":");
  }

  private static int dynamicValues(
      PlanDefinition.PlanDefinitionActionComponent action, String lib) {
    int n = 0;
    for (String[] text :
        new String[][] {
          {CardText.TITLE, action.getTitle()}, {CardText.DESCRIPTION, action.getDescription()}
        }) {
      var values =
          action.getDynamicValue().stream().filter(d -> d.getPath().equals(text[0])).toList();
      if (text[1] != null && text[1].contains("{{")) {
        assertThat(values).as(action.getId() + " " + text[0]).hasSize(1);
        assertThat(values.get(0).getExpression().getReference()).isEqualTo(lib);
        assertThat(values.get(0).getExpression().getExpression())
            .isEqualTo(action.getId() + " " + text[0].substring("action.".length()));
        n++;
      } else {
        assertThat(values).as(action.getId() + " " + text[0]).isEmpty();
      }
    }
    for (var child : action.getAction()) {
      n += dynamicValues(child, lib);
    }
    return n;
  }
}
