package org.backhippain.cds.service.system;

import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Runs the schema migrations at start-up, before the warm-up and readiness. A database that is
 * merely slow to open (the pool's first connection still being made when a connection is asked for:
 * an embedded H2 file on a loaded machine takes longer than the 1 s connection timeout) is "not
 * yet": start-up waits for it, up to {@link #OPENING_GRACE}, without an alarm. A database that
 * refuses or fails (the pool's attempt ended in an error) is "unreachable": the service still
 * starts but is not ready (the {@code database} readiness indicator is DOWN), one ERROR line names
 * the cause, and the migrations are retried every 5 s until they succeed.
 */
@Component("database")
@Order(Ordered.HIGHEST_PRECEDENCE)
class DatabaseMigration implements ApplicationRunner, HealthIndicator {
  private static final Logger log = LoggerFactory.getLogger(DatabaseMigration.class);
  static final Duration OPENING_GRACE = Duration.ofSeconds(30);
  private static final long NOT_YET_PAUSE_MILLIS = 100;

  private final DataSource dataSource;
  private final AtomicReference<String> problem = new AtomicReference<>("not migrated yet");
  private ScheduledExecutorService retries;

  DatabaseMigration(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** How one attempt ended: migrated, the first connection not made yet, or a failure. */
  private record Attempt(boolean migrated, boolean notYet, String cause) {}

  @Override
  public void run(ApplicationArguments args) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + OPENING_GRACE.toNanos();
    Attempt attempt = migrate();
    while (attempt.notYet() && System.nanoTime() < deadline) {
      problem.set("the database is still opening");
      Thread.sleep(NOT_YET_PAUSE_MILLIS);
      attempt = migrate();
    }
    if (attempt.migrated()) {
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      if (waited > 1000) {
        log.info("database opened after {} ms", waited);
      }
      return;
    }
    String cause =
        attempt.notYet()
            ? "no connection within " + OPENING_GRACE.toSeconds() + " s"
            : attempt.cause();
    problem.set(cause);
    log.error(
        "database unreachable at start-up: {}; the service is NOT READY and retries every 5 s",
        cause);
    retries =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "database-migration-retry");
              t.setDaemon(true);
              return t;
            });
    retries.scheduleWithFixedDelay(
        () -> {
          Attempt retry = migrate();
          if (retry.migrated()) {
            log.warn("database reachable: migrations applied, the service is ready");
            retries.shutdown();
          } else if (!retry.notYet()) {
            problem.set(retry.cause());
          }
        },
        5,
        5,
        TimeUnit.SECONDS);
  }

  private Attempt migrate() {
    try {
      var result =
          Flyway.configure()
              .dataSource(dataSource)
              .locations("classpath:db/migration")
              .load()
              .migrate();
      problem.set(null);
      log.info("database schema at version {}", result.targetSchemaVersion);
      return new Attempt(true, false, null);
    } catch (RuntimeException e) {
      return notYet(e) ? new Attempt(false, true, null) : new Attempt(false, false, cause(e));
    }
  }

  /**
   * True when the pool timed out waiting for its first connection without any attempt having failed
   * (HikariCP then gives no cause): the database is slow, not unreachable.
   */
  static boolean notYet(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException && t.getCause() == null) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** The innermost cause in words: its message and its kind, e.g. "Connection refused". */
  static String cause(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? "" : root.getMessage().strip();
    if (message.length() > 300) {
      message = message.substring(0, 300) + "...";
    }
    String kind = root.getClass().getSimpleName();
    return message.isEmpty() ? kind : message + " (" + kind + ")";
  }

  @Override
  public Health health() {
    String p = problem.get();
    return p == null ? Health.up().build() : Health.down().withDetail("database", p).build();
  }
}
