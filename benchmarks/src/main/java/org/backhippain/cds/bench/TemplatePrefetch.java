package org.backhippain.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.PrefetchKeys;
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

  /** The content's prefetch keys: the one definition of what type each key brings. */
  private static final PrefetchKeys KEYS =
      PrefetchKeys.of(ContentPackage.load(FhirContext.forR4Cached()));

  public static Map<String, List<Resource>> of(Bundle synthea, boolean everything) {
    Map<String, List<Resource>> keys = new LinkedHashMap<>();
    KEYS.templates().keySet().forEach(key -> keys.put(key, new ArrayList<>()));
    Map<String, String> stored = storedReferences(synthea);
    for (Bundle.BundleEntryComponent entry : synthea.getEntry()) {
      Resource r = entry.getResource();
      if (r instanceof MedicationRequest request && request.hasMedicationReference()) {
        Reference medication = request.getMedicationReference();
        medication.setReference(
            stored.getOrDefault(medication.getReference(), medication.getReference()));
      }
      // What the template's query narrows beyond the type: the observation codes, active coverage.
      boolean selected =
          everything
              || switch (r.fhirType()) {
                case "Observation" ->
                    ((Observation) r)
                        .getCode().getCoding().stream()
                            .map(Coding::getCode)
                            .anyMatch(OBSERVATION_CODES::contains);
                case "Coverage" -> ((Coverage) r).getStatus() == Coverage.CoverageStatus.ACTIVE;
                default -> true;
              };
      var key = KEYS.keyFor(r.fhirType());
      if (key.isPresent() && selected) {
        keys.get(key.get()).add(r);
      } else if (key.isEmpty() && everything) {
        keys.get("observations").add(r);
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
