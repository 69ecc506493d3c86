package org.backhippain.cds.fhir;

import java.util.Map;

/**
 * What one hook call gives the data layer: the EHR's FHIR base URL and access token (both
 * optional), the FHIR servers the caller may have read, the values for prefetch tokens, and the
 * prefetch entries the EHR filled.
 *
 * @param token the {@code fhirAuthorization}, or null
 * @param allowed the allow-list {@code fhirServer} must match before anything is read from it
 * @param tokens token name without braces ({@code context.patientId}, {@code userPractitionerId})
 *     to its value
 */
public record DataRequest(
    String fhirServer,
    AccessToken token,
    FhirServers allowed,
    Map<String, String> tokens,
    Map<String, PrefetchValue> prefetch) {

  public DataRequest {
    allowed = allowed == null ? FhirServers.none() : allowed;
    tokens = Map.copyOf(tokens);
    prefetch = Map.copyOf(prefetch);
  }

  /** The context patient's id ({@code context.patientId}), or null when the hook has none. */
  public String patientId() {
    return tokens.get("context.patientId");
  }
}
