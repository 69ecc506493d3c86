package org.backhippain.cds.fhir;

import java.util.Optional;
import org.backhippain.cds.fhir.FhirServers.FhirServer;

/**
 * What may not be read from the EHR's FHIR server at all, decided before any connection: no server
 * named, a server off the caller's allow-list, a token for another patient or expired (for the
 * whole request); a query whose tokens did not resolve or a type outside the token's scope (per
 * key).
 */
final class FetchRefusals {
  private final FetchFailure refusal;
  private final AccessToken token;

  private FetchRefusals(FetchFailure refusal, AccessToken token) {
    this.refusal = refusal;
    this.token = token;
  }

  /** The request-wide refusal, if any, for reading from {@code server}. */
  static FetchRefusals of(DataRequest request, Optional<FhirServer> server) {
    AccessToken token = request.token();
    FetchFailure refusal =
        request.fhirServer() == null
            ? FetchFailure.NO_SERVER
            : server.isEmpty()
                ? FetchFailure.NOT_ALLOWED
                : token != null && token.forAnotherPatient(request.patientId())
                    ? FetchFailure.TOKEN_OTHER_PATIENT
                    : token != null && token.expired() ? FetchFailure.TOKEN_EXPIRED : null;
    return new FetchRefusals(refusal, token);
  }

  /** Why {@code key} may not be read, or empty when it may. */
  Optional<FetchFailure> of(FhirFetcher.Key key) {
    PrefetchTemplate template = key.template();
    if (refusal != null) {
      return Optional.of(refusal);
    }
    if (key.query() == null) {
      return Optional.of(FetchFailure.UNRESOLVED_TOKEN);
    }
    if (token != null && !token.covers(template.resourceType(), template.isRead())) {
      return Optional.of(FetchFailure.NOT_IN_SCOPE);
    }
    return Optional.empty();
  }
}
