package org.backhippain.cds.service.system;

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
 * Runs the schema migrations at start-up. With the database down the service still starts but is
 * not ready (the {@code database} readiness indicator is DOWN, with one clear log line), and it
 * retries every few seconds until the migrations succeed.
 */
@Component("database")
@Order(Ordered.HIGHEST_PRECEDENCE)
class DatabaseMigration implements ApplicationRunner, HealthIndicator {
  private static final Logger log = LoggerFactory.getLogger(DatabaseMigration.class);
  private final DataSource dataSource;
  private final AtomicReference<String> problem = new AtomicReference<>("not migrated yet");
  private ScheduledExecutorService retries;

  DatabaseMigration(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public void run(ApplicationArguments args) {
    if (!migrate()) {
      log.error(
          "database unreachable at start-up ({}): the service is NOT READY and retries every 5 s",
          problem.get());
      retries =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "database-migration-retry");
                t.setDaemon(true);
                return t;
              });
      retries.scheduleWithFixedDelay(
          () -> {
            if (migrate()) {
              log.warn("database reachable: migrations applied, the service is ready");
              retries.shutdown();
            }
          },
          5,
          5,
          TimeUnit.SECONDS);
    }
  }

  private boolean migrate() {
    try {
      var result =
          Flyway.configure()
              .dataSource(dataSource)
              .locations("classpath:db/migration")
              .load()
              .migrate();
      problem.set(null);
      log.info("database schema at version {}", result.targetSchemaVersion);
      return true;
    } catch (RuntimeException e) {
      problem.set(e.getClass().getSimpleName());
      return false;
    }
  }

  @Override
  public Health health() {
    String p = problem.get();
    return p == null ? Health.up().build() : Health.down().withDetail("database", p).build();
  }
}
