package org.backhippain.cds.service.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.backhippain.cds.service.security.InMemoryReplayStore;
import org.backhippain.cds.service.security.JdbcReplayStore;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The storage behaviour every database must show; run on H2 and on PostgreSQL. */
abstract class StorageContract {
  /** The store's clock: when it records a snooze. */
  static final Instant STORE_NOW = Instant.parse("2026-06-15T10:05:00Z");

  HikariDataSource dataSource;
  JdbcTemplate jdbc;
  FeedbackStore store;

  abstract String jdbcUrl();

  String user() {
    return "sa";
  }

  String password() {
    return "";
  }

  @BeforeEach
  void migrate() {
    dataSource = new HikariDataSource();
    dataSource.setJdbcUrl(jdbcUrl());
    dataSource.setUsername(user());
    dataSource.setPassword(password());
    dataSource.setMaximumPoolSize(20);
    Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
    jdbc = new JdbcTemplate(dataSource);
    store =
        new FeedbackStore(
            jdbc,
            new TransactionTemplate(new DataSourceTransactionManager(dataSource)),
            Clock.fixed(STORE_NOW, java.time.ZoneOffset.UTC));
  }

  @AfterEach
  void close() {
    dataSource.close();
  }

  static IssuedCard card(String rule, Instant at) {
    return new IssuedCard(
        UUID.randomUUID().toString(),
        "back-hip-pain-patient-view",
        rule,
        "warning",
        "patient-hash-1",
        Set.of("f1", "f2"),
        Map.of(UUID.randomUUID().toString(), "order-pt-referral"),
        Set.of("not-applicable", "already-addressed"),
        at);
  }

  static FeedbackStore.StoredFeedback overridden(IssuedCard card, Instant at) {
    return new FeedbackStore.StoredFeedback(
        UUID.randomUUID().toString(), card.cardUuid(), "overridden", "not-applicable", "", at, at);
  }

  @Test
  void issuedCardsRoundTrip() {
    IssuedCard card = card("red-flag-malignancy", Instant.parse("2026-06-15T10:00:00Z"));
    store.recordIssued(List.of(card));
    IssuedCard read = store.issued(card.cardUuid()).orElseThrow();
    assertThat(read.ruleId()).isEqualTo("red-flag-malignancy");
    assertThat(read.factHashes()).containsExactlyInAnyOrder("f1", "f2");
    assertThat(read.suggestions()).isEqualTo(card.suggestions());
    assertThat(read.issuedAt()).isEqualTo(card.issuedAt());
  }

  /** A card (and its snooze) triggered by thousands of facts — every key at its entry cap. */
  @Test
  void aCardWithThousandsOfFactsIsLoggedAndSnoozed() {
    Instant now = Instant.parse("2026-06-15T10:00:00Z");
    Set<String> facts = new java.util.LinkedHashSet<>();
    for (int i = 0; i < 7_000; i++) {
      facts.add(String.format("%016x", i));
    }
    IssuedCard base = card("hip-or-back", now);
    IssuedCard card =
        new IssuedCard(
            base.cardUuid(),
            base.serviceId(),
            base.ruleId(),
            base.indicator(),
            "patient-hash-many",
            facts,
            base.suggestions(),
            base.overrideReasons(),
            now);
    store.recordIssued(List.of(card));
    assertThat(store.issued(card.cardUuid()).orElseThrow().factHashes()).hasSize(7_000);
    store.store(
        List.of(overridden(card, now)),
        List.of(
            new Snooze(
                "patient-hash-many",
                "hip-or-back",
                now.plus(Duration.ofDays(30)),
                facts,
                "overridden")));
    assertThat(store.snooze("patient-hash-many", "hip-or-back"))
        .hasValueSatisfying(s -> assertThat(s.factHashes()).hasSize(7_000));
  }

  /** Batches on the same entries and snoozes at once: nothing lost, nothing twice, no 503. */
  @Test
  void concurrentBatchesOnTheSameEntriesAndSnoozesAllSucceed() throws Exception {
    Instant now = Instant.parse("2026-06-15T10:00:00Z");
    IssuedCard card = card("self-care", now);
    store.recordIssued(List.of(card));
    List<FeedbackStore.StoredFeedback> entries = new java.util.ArrayList<>();
    for (int i = 0; i < 100; i++) {
      entries.add(
          new FeedbackStore.StoredFeedback(
              "same-" + i, card.cardUuid(), "overridden", null, "", now, now));
    }
    Snooze snooze =
        new Snooze("patient-hash-1", "self-care", now.plus(Duration.ofDays(30)), Set.of("f"), "o");
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        runs.add(pool.submit(() -> store.store(entries, List.of(snooze))));
      }
      for (var run : runs) {
        run.get(60, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.counts().get("self-care").overridden).isEqualTo(100);
    assertThat(store.snooze("patient-hash-1", "self-care")).isPresent();
  }

  @Test
  void feedbackIsIdempotentAndSnoozesReplace() {
    Instant now = Instant.parse("2026-06-15T10:00:00Z");
    IssuedCard card = card("pt-referral", now);
    store.recordIssued(List.of(card));
    var entry = overridden(card, now);
    Snooze snooze =
        new Snooze(
            "patient-hash-1",
            "pt-referral",
            now.plus(Duration.ofDays(30)),
            Set.of("f1"),
            "overridden");
    store.store(List.of(entry), List.of(snooze));
    store.store(List.of(entry), List.of(snooze));
    assertThat(store.counts().get("pt-referral").overridden).isEqualTo(1);
    assertThat(store.snooze("patient-hash-1", "pt-referral"))
        .hasValueSatisfying(s -> assertThat(s.factHashes()).containsExactly("f1"));
    assertThat(
            jdbc.queryForObject(
                "SELECT created_at FROM snooze WHERE patient_hash = ? AND rule_id = ?",
                java.sql.Timestamp.class,
                "patient-hash-1",
                "pt-referral"))
        .as("created at the store's clock")
        .isEqualTo(java.sql.Timestamp.from(STORE_NOW));
  }

  @Test
  void theReplayStoreRefusesASecondUseUntilExpiry() {
    var replays =
        new JdbcReplayStore(jdbc, new InMemoryReplayStore(Clock.systemUTC()), Clock.systemUTC());
    Instant later = Instant.now().plusSeconds(300);
    assertThat(replays.firstUse("https://ehr", "jti-1", later)).isTrue();
    assertThat(replays.firstUse("https://ehr", "jti-1", later)).isFalse();
    var otherInstance =
        new JdbcReplayStore(jdbc, new InMemoryReplayStore(Clock.systemUTC()), Clock.systemUTC());
    assertThat(otherInstance.firstUse("https://ehr", "jti-1", later))
        .as("shared through the database")
        .isFalse();
    jdbc.update(
        "UPDATE jwt_replay SET expires_at = ? WHERE jti = 'jti-2'",
        java.sql.Timestamp.from(Instant.now()));
    assertThat(otherInstance.firstUse("https://ehr", "jti-2", later)).isTrue();
  }

  @Test
  void retentionPurgesOldRecordsOnceAcrossInstances() {
    Instant now = Instant.now();
    IssuedCard old = card("self-care", now.minus(Duration.ofDays(400)));
    IssuedCard recent = card("self-care", now.minus(Duration.ofDays(10)));
    store.recordIssued(List.of(old, recent));
    store.store(List.of(overridden(old, now.minus(Duration.ofDays(400)))), List.of());
    var first =
        new RetentionJob(jdbc, Clock.systemUTC(), Duration.ofDays(365), Duration.ofHours(1));
    var second =
        new RetentionJob(jdbc, Clock.systemUTC(), Duration.ofDays(365), Duration.ofHours(1));
    assertThat(first.purge()).isGreaterThanOrEqualTo(2);
    assertThat(second.purge())
        .as("the other instance does not run it again this interval")
        .isEqualTo(-1);
    assertThat(store.issued(old.cardUuid())).isEmpty();
    assertThat(store.issued(recent.cardUuid())).isPresent();
  }

  @Test
  void fiftyConcurrentWritersLoseNothing() throws Exception {
    Instant now = Instant.parse("2026-06-15T10:00:00Z");
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Future<?>> writes = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      writes.add(
          pool.submit(
              () -> {
                IssuedCard card = card("hip-or-back", now);
                store.recordIssued(List.of(card));
                store.store(List.of(overridden(card, now)), List.of());
                return null;
              }));
    }
    for (Future<?> write : writes) {
      write.get();
    }
    pool.shutdown();
    assertThat(store.counts().get("hip-or-back").shown).isEqualTo(50);
    assertThat(store.counts().get("hip-or-back").overridden).isEqualTo(50);
  }
}
