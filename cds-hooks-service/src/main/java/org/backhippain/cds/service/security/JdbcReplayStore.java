package org.backhippain.cds.service.security;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The {@code jti} replay store in the shared database, so a token used on one instance is refused
 * on every other. If the database cannot be reached, checks fall back to this instance's memory and
 * the log says so (once per outage).
 */
public final class JdbcReplayStore implements ReplayStore {
  private static final Logger log = LoggerFactory.getLogger(JdbcReplayStore.class);
  private final JdbcTemplate jdbc;
  private final ReplayStore fallback;
  private final Clock clock;
  private final AtomicBoolean degraded = new AtomicBoolean();

  public JdbcReplayStore(JdbcTemplate jdbc, ReplayStore fallback, Clock clock) {
    this.jdbc = jdbc;
    this.fallback = fallback;
    this.clock = clock;
  }

  @Override
  public boolean firstUse(String issuer, String jti, Instant expiresAt) {
    boolean inMemory = fallback.firstUse(issuer, jti, expiresAt);
    try {
      boolean first = insertOrRenew(issuer, jti, expiresAt);
      if (degraded.compareAndSet(true, false)) {
        log.warn("jti replay store: database reachable again");
      }
      return first && inMemory;
    } catch (DataAccessException e) {
      if (degraded.compareAndSet(false, true)) {
        log.error(
            "jti replay store: database unavailable ({}); jti checks fall back to this instance's memory",
            e.getClass().getSimpleName());
      }
      return inMemory;
    }
  }

  private boolean insertOrRenew(String issuer, String jti, Instant expiresAt) {
    try {
      jdbc.update(
          "INSERT INTO jwt_replay (issuer, jti, expires_at) VALUES (?, ?, ?)",
          issuer,
          jti,
          Timestamp.from(expiresAt));
      return true;
    } catch (DuplicateKeyException seen) {
      // An entry whose token has expired may be reused.
      return jdbc.update(
              "UPDATE jwt_replay SET expires_at = ? WHERE issuer = ? AND jti = ? AND expires_at < ?",
              Timestamp.from(expiresAt),
              issuer,
              jti,
              Timestamp.from(clock.instant()))
          == 1;
    }
  }
}
