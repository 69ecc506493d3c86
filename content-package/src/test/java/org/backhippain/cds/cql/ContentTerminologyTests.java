package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Membership as the rules see it, from the content's value sets (clinical spec §6). */
class ContentTerminologyTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final String CANCER = ContentPackage.CANONICAL_BASE + "/ValueSet/cancer";
  static ContentPackage content;
  static ContentTerminology terminology;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FHIR);
    terminology = new ContentTerminology(content);
  }

  @Test
  void cancerIsTheWholeC00ToC96BlockWithItsLetterCategoriesExceptC44() {
    for (String code :
        List.of(
            "C4A.9", "C4A9", "c4a.111", "C7A.010", "C7A00", "C7B.03", "C7B1", "C50.911", "C96.9")) {
      assertThat(terminology.contains(CANCER, ContentTerminology.ICD10CM, code)).as(code).isTrue();
    }
    for (String code : List.of("C44.91", "D3A.010", "Z85.828", "C42", "C97")) {
      assertThat(terminology.contains(CANCER, ContentTerminology.ICD10CM, code)).as(code).isFalse();
    }
    assertThat(terminology.contains(CANCER, ContentTerminology.ICD10CM, "Z85.3")).isTrue();
  }

  @Test
  void eachCancerCategoryIsItsOwnIncludeWithOneIsAFilter() {
    // Filters within one include must all hold (FHIR); categories are alternatives: one each.
    ValueSet cancer =
        content.valueSets().stream()
            .filter(v -> v.getUrl().equals(CANCER))
            .findFirst()
            .orElseThrow();
    assertThat(cancer.getCompose().getInclude())
        .allSatisfy(i -> assertThat(i.getFilter()).hasSizeLessThanOrEqualTo(1));
    assertThat(cancer.getCompose().getInclude())
        .flatMap(ValueSet.ConceptSetComponent::getFilter)
        .extracting(ValueSet.ConceptSetFilterComponent::getValue)
        .contains("C4A", "C7A", "C7B")
        .doesNotContain("C42", "C44");
  }
}
