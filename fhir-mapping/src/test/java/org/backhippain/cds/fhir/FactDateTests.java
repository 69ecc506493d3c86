package org.backhippain.cds.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/** The date of a fact (clinical spec §4), as the population run decides what is after its date. */
class FactDateTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final FactDates UTC = new FactDates(FHIR, ZoneOffset.UTC);

  static LocalDate dateOf(String json) {
    Resource resource = (Resource) FHIR.newJsonParser().parseResource(json);
    return FactDate.of(UTC.normalize(resource)).orElse(null);
  }

  @Test
  void aConditionIsDatedByItsOnsetElseItsRecordedDate() {
    assertThat(
            dateOf(
                "{\"resourceType\":\"Condition\",\"onsetDateTime\":\"2026-05-01\","
                    + "\"recordedDate\":\"2026-06-01\"}"))
        .isEqualTo("2026-05-01");
    assertThat(
            dateOf(
                "{\"resourceType\":\"Condition\",\"onsetPeriod\":{\"start\":\"2026-04\"},"
                    + "\"recordedDate\":\"2026-06-01\"}"))
        .as("a Period's start; a year-month counts from its first day")
        .isEqualTo("2026-04-01");
    assertThat(
            dateOf(
                "{\"resourceType\":\"Condition\",\"onsetString\":\"as a child\","
                    + "\"recordedDate\":\"2026-06-01\"}"))
        .as("an onset without a date")
        .isEqualTo("2026-06-01");
    assertThat(dateOf("{\"resourceType\":\"Condition\"}")).isNull();
  }

  @Test
  void anObservationIsDatedByEffectiveElseIssued() {
    assertThat(
            dateOf(
                "{\"resourceType\":\"Observation\",\"status\":\"final\","
                    + "\"effectiveInstant\":\"2026-06-14T22:30:00-05:00\"}"))
        .as("converted to the zone first: the next day in UTC")
        .isEqualTo("2026-06-15");
    assertThat(
            dateOf(
                "{\"resourceType\":\"Observation\",\"status\":\"final\","
                    + "\"issued\":\"2026-06-02T10:00:00Z\"}"))
        .isEqualTo("2026-06-02");
    assertThat(
            dateOf(
                "{\"resourceType\":\"Observation\",\"status\":\"final\","
                    + "\"effectivePeriod\":{\"end\":\"2026-06-02\"},\"issued\":\"2026-06-03T10:00:00Z\"}"))
        .as("a Period without a start: issued")
        .isEqualTo("2026-06-03");
  }

  @Test
  void proceduresAndRequestsAreDatedByPerformedAndAuthoredOn() {
    assertThat(
            dateOf(
                "{\"resourceType\":\"Procedure\",\"status\":\"completed\","
                    + "\"performedPeriod\":{\"start\":\"2025\"}}"))
        .isEqualTo("2025-01-01");
    assertThat(
            dateOf(
                "{\"resourceType\":\"ServiceRequest\",\"status\":\"active\",\"intent\":\"order\","
                    + "\"authoredOn\":\"2026-06-15T23:00:00+02:00\"}"))
        .isEqualTo("2026-06-15");
    assertThat(
            dateOf(
                "{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\"}"))
        .isNull();
    assertThat(dateOf("{\"resourceType\":\"Coverage\",\"status\":\"active\"}"))
        .as("not a dated fact")
        .isNull();
  }
}
