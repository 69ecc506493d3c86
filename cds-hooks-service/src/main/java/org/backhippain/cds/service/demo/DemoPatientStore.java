package org.backhippain.cds.service.demo;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.time.Clock;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backhippain.cds.cql.ContentCase;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Resource;

/**
 * The demo FHIR server's data: every content case's patient resources. With date shifting on (the
 * default), each case's dates move by the days between its evaluation date and today, so every
 * example keeps showing its cards on the real clock.
 */
final class DemoPatientStore {
  private final Map<String, Map<String, Resource>> byType = new LinkedHashMap<>();
  private final List<String> patientIds = new ArrayList<>();

  DemoPatientStore(List<ContentCase> cases, FhirContext fhir, Clock clock, boolean shiftDates) {
    FhirTerser terser = fhir.newTerser();
    LocalDate today = LocalDate.now(clock);
    for (ContentCase c : cases) {
      int shift = shiftDates ? (int) ChronoUnit.DAYS.between(c.evaluationDate(), today) : 0;
      for (var entry : c.bundle().getEntry()) {
        Resource resource = entry.getResource().copy();
        if (shift != 0) {
          for (BaseDateTimeType date :
              terser.getAllPopulatedChildElementsOfType(resource, BaseDateTimeType.class)) {
            date.add(Calendar.DATE, shift);
          }
        }
        String id = resource.getIdElement().getIdPart();
        Resource previous =
            byType
                .computeIfAbsent(resource.fhirType(), t -> new LinkedHashMap<>())
                .put(id, resource);
        if (previous != null) {
          throw new IllegalStateException(
              "content case " + c.id() + " reuses the id " + resource.fhirType() + "/" + id);
        }
      }
      patientIds.add(c.patientId());
    }
  }

  Optional<Resource> get(String type, String id) {
    return Optional.ofNullable(byType.getOrDefault(type, Map.of()).get(id));
  }

  Collection<Resource> all(String type) {
    return byType.getOrDefault(type, Map.of()).values();
  }

  List<String> types() {
    return List.copyOf(byType.keySet());
  }

  List<String> patientIds() {
    return List.copyOf(patientIds);
  }
}
