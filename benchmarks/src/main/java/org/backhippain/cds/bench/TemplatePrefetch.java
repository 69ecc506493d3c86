package org.backhippain.cds.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Coverage;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Prefetch built as an EHR answers the service's templates: patient, conditions, observations with
 * the template's codes only, medication requests with their medications, service requests,
 * procedures, active coverage. {@code everything} is the raw worst case: every resource.
 */
public final class TemplatePrefetch {
  static final Set<String> OBSERVATION_CODES =
      Set.of(
          "72514-3",
          "8310-5",
          "29463-7",
          "72166-2",
          "36163009",
          "saddle-anesthesia",
          "morning-stiffness-over-30-min",
          "better-with-exercise-not-rest");

  private TemplatePrefetch() {}

  public static Map<String, List<Resource>> of(Bundle synthea, boolean everything) {
    Map<String, List<Resource>> keys = new LinkedHashMap<>();
    for (String key :
        List.of(
            "patient",
            "conditions",
            "observations",
            "medications",
            "serviceRequests",
            "procedures",
            "coverage")) {
      keys.put(key, new ArrayList<>());
    }
    Map<String, String> stored = storedReferences(synthea);
    for (Bundle.BundleEntryComponent entry : synthea.getEntry()) {
      Resource r = entry.getResource();
      if (r instanceof MedicationRequest request && request.hasMedicationReference()) {
        Reference medication = request.getMedicationReference();
        medication.setReference(
            stored.getOrDefault(medication.getReference(), medication.getReference()));
      }
      switch (r.fhirType()) {
        case "Patient" -> keys.get("patient").add(r);
        case "Condition" -> keys.get("conditions").add(r);
        case "Observation" -> {
          if (everything
              || ((Observation) r)
                  .getCode().getCoding().stream()
                      .map(Coding::getCode)
                      .anyMatch(OBSERVATION_CODES::contains)) {
            keys.get("observations").add(r);
          }
        }
        case "MedicationRequest", "Medication" -> keys.get("medications").add(r);
        case "ServiceRequest" -> keys.get("serviceRequests").add(r);
        case "Procedure" -> keys.get("procedures").add(r);
        case "Coverage" -> {
          if (everything || ((Coverage) r).getStatus() == Coverage.CoverageStatus.ACTIVE) {
            keys.get("coverage").add(r);
          }
        }
        default -> {
          if (everything) {
            keys.get("observations").add(r);
          }
        }
      }
    }
    return keys;
  }

  /**
   * Synthea writes a transaction bundle whose references are the entries' {@code urn:uuid:} full
   * URLs (a MedicationRequest's {@code medicationReference} among them); a FHIR server storing it,
   * and so the EHR answering the prefetch, refers to {@code Type/id}. Full URL → Type/id, so that
   * the medications reached through medicationReference (Synthea's opioid injections, acetaminophen
   * 500 mg) are found as they would be.
   */
  static Map<String, String> storedReferences(Bundle synthea) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Bundle.BundleEntryComponent entry : synthea.getEntry()) {
      Resource r = entry.getResource();
      if (entry.hasFullUrl() && r != null && r.hasIdElement()) {
        out.put(entry.getFullUrl(), r.fhirType() + "/" + r.getIdElement().getIdPart());
      }
    }
    return out;
  }

  public static Patient patient(Map<String, List<Resource>> keys) {
    return (Patient) keys.get("patient").get(0);
  }
}
