package org.backhippain.cds.fhir;

/**
 * A key the service cannot answer without (patient, conditions) could not be had: neither
 * prefetched nor fetchable, or the EHR sent {@code null} for the patient. CDS Hooks answers 412.
 */
public final class RequiredDataUnavailableException extends RuntimeException {
  private final String key;

  public RequiredDataUnavailableException(String key, String reason) {
    super("required prefetch '" + key + "' unavailable: " + reason);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
