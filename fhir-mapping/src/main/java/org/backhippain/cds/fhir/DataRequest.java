package org.backhippain.cds.fhir;

import java.util.Map;

/**
 * What one hook call gives the data layer: the EHR's FHIR base URL and token (both optional), the
 * values for prefetch tokens, and the prefetch entries the EHR filled.
 *
 * @param tokens token name without braces ({@code context.patientId}, {@code userPractitionerId})
 *     to its value
 */
public record DataRequest(
    String fhirServer,
    String accessToken,
    Map<String, String> tokens,
    Map<String, PrefetchValue> prefetch) {

  public DataRequest {
    tokens = Map.copyOf(tokens);
    prefetch = Map.copyOf(prefetch);
  }

  /** The context patient's id ({@code context.patientId}), or null when the hook has none. */
  public String patientId() {
    return tokens.get("context.patientId");
  }
}
