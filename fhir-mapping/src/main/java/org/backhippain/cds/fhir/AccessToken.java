package org.backhippain.cds.fhir;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The EHR's {@code fhirAuthorization} (CDS Hooks §Passing the Access Token), as far as the service
 * acts on it: the bearer token goes only to the {@code fhirServer} origin, not after {@code
 * expires_in}, only for keys whose resource type the granted {@code scope} covers, and not at all
 * when it was issued for another patient than {@code context.patientId}.
 *
 * @param value the access token; never logged ({@link #toString()} leaves it out)
 * @param expiresAtNanos {@link System#nanoTime()} after which it is not sent ({@link
 *     Long#MAX_VALUE} without {@code expires_in})
 * @param scope the granted SMART scopes, space-separated (none: no resource type is covered)
 * @param patient the patient the token is for ({@code fhirAuthorization.patient}), or null
 */
public record AccessToken(String value, long expiresAtNanos, String scope, String patient) {
  private static final Pattern SCOPE =
      Pattern.compile("(patient|user|system)/([A-Za-z]+|\\*)\\.(read|write|\\*|[cruds]+)(\\?.*)?");

  /**
   * A token received now, valid for {@code expiresInSeconds} (null: no stated expiry), or null when
   * {@code value} is blank.
   */
  public static AccessToken of(String value, Long expiresInSeconds, String scope, String patient) {
    if (value == null || value.isBlank()) {
      return null;
    }
    long expiresAt =
        expiresInSeconds == null
            ? Long.MAX_VALUE
            : System.nanoTime() + Math.max(0, Math.min(expiresInSeconds, 86_400L)) * 1_000_000_000L;
    return new AccessToken(value, expiresAt, scope, patient);
  }

  boolean expired() {
    return System.nanoTime() - expiresAtNanos >= 0;
  }

  /** True when the token was issued for another patient than the context's. */
  boolean forAnotherPatient(String contextPatientId) {
    return patient != null && !patient.isBlank() && !patient.equals(contextPatientId);
  }

  /**
   * Whether a granted scope lets the service read ({@code read}) or search for this type: SMART v1
   * {@code read} or {@code *}, v2 {@code r} to read and {@code s} to search; {@code patient/},
   * {@code user/} and {@code system/} alike; {@code *} for any type.
   */
  boolean covers(String resourceType, boolean read) {
    if (scope == null) {
      return false;
    }
    for (String granted : scope.trim().split("\\s+")) {
      Matcher m = SCOPE.matcher(granted);
      if (!m.matches() || !("*".equals(m.group(2)) || m.group(2).equals(resourceType))) {
        continue;
      }
      String permission = m.group(3).toLowerCase(Locale.ROOT);
      if ("read".equals(permission)
          || "*".equals(permission)
          || (!"write".equals(permission) && permission.indexOf(read ? 'r' : 's') >= 0)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "AccessToken[scope=" + scope + ", patient=" + (patient == null ? "-" : "set") + "]";
  }
}
