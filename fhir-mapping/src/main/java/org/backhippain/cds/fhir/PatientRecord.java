package org.backhippain.cds.fhir;

import java.util.List;
import java.util.Set;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * One patient's data for one evaluation, typed: the Patient, every other resource from every key
 * (each once), and the keys whose data could not be had (the rules then compute without them and
 * every card names them).
 */
public record PatientRecord(
    Patient patient, List<Resource> resources, Set<String> unavailable, List<KeyOutcome> outcomes) {

  public PatientRecord {
    resources = List.copyOf(resources);
    unavailable = Set.copyOf(unavailable);
    outcomes = List.copyOf(outcomes);
  }

  /**
   * How one prefetch key was satisfied; for logs and metrics (ids and timings, never content).
   *
   * @param reason why it is unavailable, in words (null otherwise)
   * @param origin the allowed FHIR server origin it was read (or tried) from, null when none
   * @param failure the short code of the failure ({@link FetchFailure#code()}), null when none
   */
  public record KeyOutcome(
      String key,
      Source source,
      int resourceCount,
      long millis,
      String reason,
      String origin,
      String failure) {}

  /** Where a key's data came from. */
  public enum Source {
    PREFETCH,
    FETCHED,
    NO_DATA,
    UNAVAILABLE
  }
}
