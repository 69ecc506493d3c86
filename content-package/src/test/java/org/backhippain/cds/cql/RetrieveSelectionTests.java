package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;
import org.hl7.fhir.r4.model.DataRequirement;
import org.junit.jupiter.api.Test;

/** What the loader may skip unparsed, read from the package's data requirements. */
class RetrieveSelectionTests {
  static final ContentPackage CONTENT = ContentPackage.load(FhirContext.forR4Cached());
  static final ContentTerminology TERMINOLOGY = new ContentTerminology(CONTENT);
  static final RetrieveSelection SELECTION = RetrieveSelection.of(CONTENT, TERMINOLOGY);

  @Test
  void thePackagesRetrievesDecideWhatIsRead() {
    // Retrieved without a code filter (or by another element than code): read whole.
    assertThat(SELECTION.readsEvery("Condition")).isTrue();
    assertThat(SELECTION.readsEvery("MedicationRequest")).isTrue();
    assertThat(SELECTION.reads("Condition", "http://example.org/any", "x")).isTrue();
    // Observations by the codes the rules read (body weight), not others (heart rate).
    assertThat(SELECTION.readsEvery("Observation")).isFalse();
    assertThat(SELECTION.reads("Observation", "http://loinc.org", "29463-7")).isTrue();
    assertThat(SELECTION.reads("Observation", "http://loinc.org", "8867-4")).isFalse();
    // Procedures by value set membership (physical therapy), not others.
    assertThat(SELECTION.reads("Procedure", "http://snomed.info/sct", "183326003")).isTrue();
    assertThat(SELECTION.reads("Procedure", "http://snomed.info/sct", "80146002")).isFalse();
    // A coding without a system is left to the retrieve; a type no rule retrieves is never read.
    assertThat(SELECTION.reads("Procedure", null, "80146002")).isTrue();
    assertThat(SELECTION.readsEvery("Encounter")).isFalse();
    assertThat(SELECTION.reads("Encounter", "http://snomed.info/sct", "185345009")).isFalse();
  }

  @Test
  void aFilterOnAnotherElementOrNoneReadsTheTypeWhole() {
    DataRequirement byCode = new DataRequirement().setType("Observation");
    byCode.addCodeFilter().setPath("code").addCode().setSystem("http://loinc.org").setCode("1-1");
    DataRequirement byCategory = new DataRequirement().setType("Observation");
    byCategory.addCodeFilter().setPath("category").setValueSet("http://vs");
    assertThat(RetrieveSelection.of(List.of(byCode), TERMINOLOGY).readsEvery("Observation"))
        .isFalse();
    assertThat(
            RetrieveSelection.of(List.of(byCode, byCategory), TERMINOLOGY)
                .readsEvery("Observation"))
        .isTrue();
    assertThat(
            RetrieveSelection.of(
                    List.of(byCode, new DataRequirement().setType("Observation")), TERMINOLOGY)
                .reads("Observation", "http://loinc.org", "2-2"))
        .isTrue();
  }
}
