package org.backhippain.cds.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * The edge step after HAPI: every primitive of the wrong shape is removed and reported by path;
 * what is valid stays, date-times put into the service's zone.
 */
class UsableValuesTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final UsableValues VALUES = new UsableValues(FHIR, ZoneOffset.UTC);

  record Checked<R extends Resource>(R resource, Set<String> unusable) {}

  static <R extends Resource> Checked<R> check(Class<R> type, String json) {
    List<String> dropped = new ArrayList<>();
    R resource = VALUES.parser(dropped).parseResource(type, json);
    Set<String> unusable = VALUES.check(resource);
    unusable.addAll(VALUES.dropped(resource, dropped));
    return new Checked<>(resource, unusable);
  }

  @Test
  void aDateTimeInBirthDateIsRemovedAndReportedTheRestStays() {
    var checked =
        check(
            Patient.class,
            "{\"resourceType\":\"Patient\",\"id\":\"p\",\"gender\":\"female\","
                + "\"birthDate\":\"2024-06-15T10:00:00\"}");
    assertThat(checked.unusable()).containsExactly("Patient.birthDate");
    assertThat(checked.resource().hasBirthDate()).isFalse();
    assertThat(checked.resource().getGender().toCode()).isEqualTo("female");
  }

  @Test
  void everyDateElementOfTheWrongShapeIsRemovedWhereverItIs() {
    var checked =
        check(
            MedicationRequest.class,
            "{\"resourceType\":\"MedicationRequest\",\"id\":\"m\",\"status\":\"active\","
                + "\"intent\":\"order\",\"authoredOn\":\"yesterday\","
                + "\"dosageInstruction\":[{\"timing\":{\"repeat\":{"
                + "\"boundsPeriod\":{\"start\":\"2024-01-01T10:00:00Z\",\"end\":\"2024-02-30\"},"
                + "\"count\":\"x\",\"timeOfDay\":[\"08:00:00\",\"99:99\"]}}}],"
                + "\"dispenseRequest\":{\"validityPeriod\":{\"start\":\"0000-01-01\"}}}");
    assertThat(checked.unusable())
        .containsExactlyInAnyOrder(
            "MedicationRequest.authoredOn",
            "MedicationRequest.dosageInstruction.timing.repeat.boundsPeriod.end",
            "MedicationRequest.dosageInstruction.timing.repeat.count",
            "MedicationRequest.dosageInstruction.timing.repeat.timeOfDay",
            "MedicationRequest.dispenseRequest.validityPeriod.start");
    MedicationRequest request = checked.resource();
    assertThat(request.hasAuthoredOn()).isFalse();
    var repeat = request.getDosageInstructionFirstRep().getTiming().getRepeat();
    assertThat(repeat.getBoundsPeriod().getStartElement().getValueAsString())
        .isEqualTo("2024-01-01T10:00:00Z");
    assertThat(repeat.getBoundsPeriod().hasEnd()).isFalse();
    assertThat(repeat.hasCount()).isFalse();
    assertThat(repeat.getTimeOfDay()).extracting(t -> t.getValue()).containsExactly("08:00:00");
  }

  @Test
  void instantsNeedSecondsAndAZoneDateTimesAreConverted() {
    var checked =
        check(
            Observation.class,
            "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\","
                + "\"issued\":\"2024-06-15\",\"effectiveDateTime\":\"2024-06-14T22:30:00-05:00\"}");
    assertThat(checked.unusable()).containsExactly("Observation.issued");
    assertThat(checked.resource().getEffectiveDateTimeType().getValueAsString())
        .isEqualTo("2024-06-15T03:30:00Z");
  }

  @Test
  void unreadableCodesBooleansNumbersAndDecimalsOutOfRangeAreRemoved() {
    var checked =
        check(
            Observation.class,
            "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"weird\","
                + "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8310-5\"}]},"
                + "\"valueQuantity\":{\"value\":1e40,\"unit\":\"Cel\"},"
                + "\"component\":[{\"code\":{\"text\":\"a\"},\"valueInteger\":99999999999},"
                + "{\"code\":{\"text\":\"b\"},\"valueBoolean\":\"yes\"}]}");
    assertThat(checked.unusable())
        .containsExactlyInAnyOrder(
            "Observation.status",
            "Observation.valueQuantity.value",
            "Observation.component.valueInteger",
            "Observation.component.valueBoolean");
    Observation observation = checked.resource();
    assertThat(observation.getCode().getCodingFirstRep().getCode()).isEqualTo("8310-5");
    assertThat(observation.getValueQuantity().getUnit()).isEqualTo("Cel");
    assertThat(observation.getComponent()).hasSize(2);
  }

  @Test
  void anElementOfTheWrongJsonTypeIsDroppedByHapiAndReported() {
    var checked =
        check(
            Condition.class,
            "{\"resourceType\":\"Condition\",\"id\":\"c\",\"code\":\"low back pain\","
                + "\"recordedDate\":\"2024-06-15\"}");
    assertThat(checked.unusable()).containsExactly("Condition.code");
    assertThat(checked.resource().hasCode()).isFalse();
    assertThat(checked.resource().getRecordedDateElement().getValueAsString())
        .isEqualTo("2024-06-15");
  }

  @Test
  void validDataIsLeftAsItIs() {
    String json =
        "{\"resourceType\":\"Condition\",\"id\":\"c\",\"onsetDateTime\":\"2024-06-15\","
            + "\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},"
            + "\"onsetAge\":null,\"abatementString\":\"later\","
            + "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"279039007\"}]}}";
    var checked = check(Condition.class, json);
    assertThat(checked.unusable()).isEmpty();
    assertThat(FHIR.newJsonParser().encodeResourceToString(checked.resource()))
        .contains("\"onsetDateTime\":\"2024-06-15\"")
        .contains("279039007");
  }
}
