package org.backhippain.cds.service.feedback;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Purges card-log, feedback and snooze-hit records older than {@code cds.retention.period}, expired
 * snoozes and expired replay entries. Safe with several instances: a row lock in {@code job_lock}
 * lets one instance run it per interval, and the deletes are idempotent anyway.
 */
@Component
class RetentionJob {
  private static final Logger log = LoggerFactory.getLogger(RetentionJob.class);
  private final JdbcTemplate jdbc;
  private final Clock clock;
  private final Duration period;
  private final Duration interval;
  private final String owner = UUID.randomUUID().toString();

  RetentionJob(
      JdbcTemplate jdbc,
      Clock clock,
      @Value("${cds.retention.period:365d}") Duration period,
      @Value("${cds.retention.interval:1h}") Duration interval) {
    this.jdbc = jdbc;
    this.clock = clock;
    this.period = period;
    this.interval = interval;
  }

  @Scheduled(
      initialDelayString = "${cds.retention.initial-delay:5m}",
      fixedDelayString = "${cds.retention.interval:1h}")
  void scheduled() {
    try {
      purge();
    } catch (DataAccessException e) {
      log.warn("retention skipped: database unavailable ({})", e.getClass().getSimpleName());
    }
  }

  /** Runs the purge if this instance wins the lock; returns the rows deleted, or -1 if not run. */
  int purge() {
    Instant now = clock.instant();
    int locked =
        jdbc.update(
            "UPDATE job_lock SET locked_until = ?, owner = ? WHERE name = 'retention' AND locked_until < ?",
            Timestamp.from(now.plus(interval).minusSeconds(1)),
            owner,
            Timestamp.from(now));
    if (locked != 1) {
      return -1;
    }
    Timestamp cutoff = Timestamp.from(now.minus(period));
    Timestamp nowTs = Timestamp.from(now);
    int deleted = jdbc.update("DELETE FROM feedback WHERE received_at < ?", cutoff);
    deleted += jdbc.update("DELETE FROM issued_card WHERE issued_at < ?", cutoff);
    deleted += jdbc.update("DELETE FROM snooze_hit WHERE hit_at < ?", cutoff);
    deleted += jdbc.update("DELETE FROM snooze WHERE until_at < ?", nowTs);
    deleted += jdbc.update("DELETE FROM jwt_replay WHERE expires_at < ?", nowTs);
    log.info("retention: {} records older than {} purged", deleted, period);
    return deleted;
  }
}
