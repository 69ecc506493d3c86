package org.backhippain.cds.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Procedure;
import org.junit.jupiter.api.Test;

/** Date-times are put into the service's time zone once, where HAPI parses (clinical spec §4). */
class FactDatesTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final FactDates UTC = new FactDates(FHIR, ZoneOffset.UTC);

  static <R extends org.hl7.fhir.r4.model.Resource> R parse(Class<R> type, String json) {
    return FHIR.newJsonParser().parseResource(type, json);
  }

  @Test
  void aLateEveningDateTimeAtANegativeOffsetLandsOnTheNextUtcDate() {
    MedicationRequest request =
        UTC.normalize(
            parse(
                MedicationRequest.class,
                "{\"resourceType\":\"MedicationRequest\",\"authoredOn\":\"2026-06-14T22:30:00-05:00\"}"));
    assertThat(request.getAuthoredOnElement().getValueAsString()).isEqualTo("2026-06-15T03:30:00Z");
  }

  @Test
  void everyDateTimeShapeIsConvertedAndDatesStayAsTheyAre() {
    Observation observation =
        UTC.normalize(
            parse(
                Observation.class,
                "{\"resourceType\":\"Observation\",\"status\":\"final\","
                    + "\"effectivePeriod\":{\"start\":\"2026-06-14T23:59:00-05:00\"},"
                    + "\"issued\":\"2026-06-14T20:00:00.250-05:00\","
                    + "\"contained\":[{\"resourceType\":\"Procedure\",\"status\":\"completed\","
                    + "\"performedDateTime\":\"2026-06-14T21:00:00-04:00\"}],"
                    + "\"component\":[{\"valueDateTime\":\"2026-03\"}]}"));
    assertThat(observation.getEffectivePeriod().getStartElement().getValueAsString())
        .isEqualTo("2026-06-15T04:59:00Z");
    assertThat(observation.getIssuedElement().getValueAsString())
        .isEqualTo("2026-06-15T01:00:00.250Z");
    assertThat(
            ((Procedure) observation.getContained().get(0))
                .getPerformedDateTimeType()
                .getValueAsString())
        .isEqualTo("2026-06-15T01:00:00Z");
    assertThat(observation.getComponentFirstRep().getValueDateTimeType().getValueAsString())
        .as("a partial date has no zone")
        .isEqualTo("2026-03");
  }

  @Test
  void anotherServiceZoneKeepsTheInstantAndShowsItsLocalDate() {
    FactDates newYork = new FactDates(FHIR, ZoneId.of("America/New_York"));
    Procedure procedure =
        newYork.normalize(
            parse(
                Procedure.class,
                "{\"resourceType\":\"Procedure\",\"status\":\"completed\","
                    + "\"performedPeriod\":{\"start\":\"2026-06-15T02:00:00Z\"}}"));
    assertThat(procedure.getPerformedPeriod().getStartElement().getValueAsString())
        .isEqualTo("2026-06-14T22:00:00-04:00");
  }
}
