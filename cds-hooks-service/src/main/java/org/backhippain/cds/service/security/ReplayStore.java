package org.backhippain.cds.service.security;

import java.time.Instant;

/** Remembers every accepted {@code jti} until its token expires (CDS Hooks: jti not replayed). */
public interface ReplayStore {

  /**
   * Records the {@code jti} of an issuer; false when it was already seen and has not expired.
   *
   * @param expiresAt when the token (plus skew) stops being valid; the entry can go then
   */
  boolean firstUse(String issuer, String jti, Instant expiresAt);
}
