package org.backhippain.cds.service.hooks;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A hook call (CDS Hooks §Calling a CDS Service). {@code context} stays JSON because its shape
 * depends on the hook; prefetch values stay JSON until HAPI parses them in fhir-mapping.
 */
public record CdsRequest(
    String hook,
    String hookInstance,
    String fhirServer,
    FhirAuthorization fhirAuthorization,
    JsonNode context,
    Map<String, JsonNode> prefetch) {

  /** §Passing the Access Token. */
  public record FhirAuthorization(
      @JsonProperty("access_token") String accessToken,
      @JsonProperty("token_type") String tokenType,
      @JsonProperty("expires_in") Long expiresIn,
      String scope,
      String subject,
      String patient) {}

  String contextText(String field) {
    JsonNode value = context == null ? null : context.get(field);
    return value == null || !value.isTextual() ? null : value.asText();
  }
}
