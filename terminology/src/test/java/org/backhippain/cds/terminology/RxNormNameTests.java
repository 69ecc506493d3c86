package org.backhippain.cds.terminology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The parse of RxNorm names into ingredients and dose form (the ConceptMap's derivation). */
class RxNormNameTests {
  static final List<String> FORMS =
      List.of("Oral Tablet", "Injectable Suspension", "Injection", "Transdermal System", "Paste");

  @Test
  void clinicalAndBrandedDrugsWithQuantityFactors() {
    var patch = RxNormName.parse("72 HR Fentanyl 0.025 MG/HR Transdermal System", FORMS);
    assertThat(patch.ingredients()).containsExactly("fentanyl");
    assertThat(patch.doseForm()).isEqualTo("Transdermal System");
    var percocet =
        RxNormName.parse(
            "Acetaminophen 325 MG / Oxycodone Hydrochloride 10 MG Oral Tablet [Percocet]", FORMS);
    assertThat(percocet.ingredients()).containsExactly("acetaminophen", "oxycodone hydrochloride");
    assertThat(percocet.brand()).isEqualTo("Percocet");
    var oxycontin =
        RxNormName.parse(
            "Abuse-Deterrent 12 HR Oxycodone Hydrochloride 10 MG Extended Release Oral Tablet [Oxycontin]",
            FORMS);
    assertThat(oxycontin.doseForm()).isEqualTo("Extended Release Oral Tablet");
    assertThat(RxNormName.parse("10 ML Fentanyl 0.05 MG/ML Injection", FORMS).doseForm())
        .isEqualTo("Injection");
  }

  @Test
  void packsGroupConceptsAndIngredientNames() {
    var pack =
        RxNormName.parse(
            "{21 (Methylprednisolone 4 MG Oral Tablet [Medrol]) } Pack [Medrol Dosepak]", FORMS);
    assertThat(pack.ingredients()).containsExactly("methylprednisolone");
    assertThat(pack.doseForm()).isEqualTo("Oral Tablet");
    var group = RxNormName.parse("Methylprednisolone Injectable Suspension [Depo-Medrol]", FORMS);
    assertThat(group.ingredients()).containsExactly("methylprednisolone");
    assertThat(group.doseForm()).isEqualTo("Injectable Suspension");
    var min = RxNormName.parse("Acetaminophen/Hydrocodone", FORMS);
    assertThat(min.ingredients()).containsExactly("acetaminophen", "hydrocodone");
    assertThat(min.doseForm()).isNull();
  }

  @Test
  void componentNamesWithoutADoseFormAreNotProducts() {
    assertThat(RxNormName.parse("Fentanyl 0.2 MG", FORMS)).isNull();
    assertThat(
            RxNormName.parse(
                "Acetaminophen 300 MG / Hydrocodone Bitartrate 10 MG [Vicodin]", FORMS))
        .isNull();
    assertThat(RxNormName.parse(null, FORMS)).isNull();
  }
}
