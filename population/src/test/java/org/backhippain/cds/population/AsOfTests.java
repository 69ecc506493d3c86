package org.backhippain.cds.population;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDate;
import java.util.List;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * The record as it stood on the run's date: later facts are dropped, a Condition that abated later
 * was active then, undated resources stay.
 */
class AsOfTests {
  static final LocalDate D = LocalDate.of(2026, 6, 15);

  static Resource parse(String json) {
    return (Resource) PatientEvaluator.Content.FHIR.newJsonParser().parseResource(json);
  }

  @Test
  void factsDatedAfterTheDateAreDroppedAndOnTheDateKept() {
    Resource before =
        parse("{\"resourceType\":\"Condition\",\"id\":\"a\",\"onsetDateTime\":\"2026-06-15\"}");
    Resource after =
        parse("{\"resourceType\":\"Condition\",\"id\":\"b\",\"onsetDateTime\":\"2026-06-16\"}");
    Resource order =
        parse(
            "{\"resourceType\":\"ServiceRequest\",\"id\":\"c\",\"status\":\"active\","
                + "\"intent\":\"order\",\"authoredOn\":\"2026-07-01T09:00:00Z\"}");
    Resource coverage = parse("{\"resourceType\":\"Coverage\",\"id\":\"d\",\"status\":\"active\"}");

    assertThat(AsOf.of(List.of(before, after, order, coverage), D))
        .containsExactly(before, coverage);
  }

  @Test
  void aConditionThatAbatedAfterTheDateWasActiveOnIt() {
    Condition later =
        (Condition)
            parse(
                "{\"resourceType\":\"Condition\",\"id\":\"lbp\",\"onsetDateTime\":\"2026-05-01\","
                    + "\"abatementDateTime\":\"2026-07-01\",\"clinicalStatus\":{\"coding\":[{"
                    + "\"system\":\""
                    + AsOf.CLINICAL
                    + "\",\"code\":\"resolved\"}]}}");
    Condition earlier = later.copy();
    earlier.setAbatement(new org.hl7.fhir.r4.model.DateTimeType("2026-06-01"));

    List<Resource> onD = AsOf.of(List.of(later, earlier), D);

    Condition active = (Condition) onD.get(0);
    assertThat(active.hasAbatement()).isFalse();
    assertThat(active.getClinicalStatus().getCodingFirstRep().getCode()).isEqualTo("active");
    assertThat(later.getClinicalStatus().getCodingFirstRep().getCode())
        .as("the export's resource is not changed")
        .isEqualTo("resolved");
    assertThat(onD.get(1)).as("abated by the date: as recorded").isSameAs(earlier);
  }
}
