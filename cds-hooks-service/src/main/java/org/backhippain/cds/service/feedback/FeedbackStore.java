package org.backhippain.cds.service.feedback;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/** The issued-card log, feedback and snoozes in the database (JDBC, Flyway schema). */
@Component
class FeedbackStore {
  private final JdbcTemplate jdbc;
  private final TransactionTemplate transactions;
  private final Clock clock;

  FeedbackStore(JdbcTemplate jdbc, TransactionTemplate transactions, Clock clock) {
    this.jdbc = jdbc;
    this.transactions = transactions;
    this.clock = clock;
  }

  /**
   * The patient pseudonym key an earlier version of the service created and kept in the database
   * (row {@value LegacyPseudonymKey#ROW} of {@code service_secret}, 64 hex digits), if it is still
   * there. Read only: the service no longer creates it ({@link PseudonymKey}).
   */
  Optional<String> legacyPseudonymKey() {
    return jdbc
        .queryForList(
            "SELECT secret FROM service_secret WHERE name = ?",
            String.class,
            LegacyPseudonymKey.ROW)
        .stream()
        .findFirst();
  }

  void recordIssued(List<IssuedCard> cards) {
    jdbc.batchUpdate(
        "INSERT INTO issued_card (card_uuid, service_id, rule_id, indicator, patient_hash,"
            + " fact_hashes, suggestion_uuids, override_reasons, issued_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cards.stream()
            .map(
                c ->
                    new Object[] {
                      c.cardUuid(),
                      c.serviceId(),
                      c.ruleId(),
                      c.indicator(),
                      c.patientHash(),
                      String.join(",", c.factHashes()),
                      encode(c.suggestions()),
                      String.join(",", c.overrideReasons()),
                      Timestamp.from(c.issuedAt())
                    })
            .toList());
  }

  Optional<IssuedCard> issued(String cardUuid) {
    return Optional.ofNullable(issued(List.of(cardUuid)).get(cardUuid));
  }

  /** The issued cards among these uuids, by uuid: one query per {@value #CHUNK} uuids. */
  Map<String, IssuedCard> issued(Collection<String> cardUuids) {
    Map<String, IssuedCard> out = new LinkedHashMap<>();
    List<String> distinct = List.copyOf(new LinkedHashSet<>(cardUuids));
    for (int from = 0; from < distinct.size(); from += CHUNK) {
      List<String> chunk = distinct.subList(from, Math.min(distinct.size(), from + CHUNK));
      jdbc.query(
          "SELECT * FROM issued_card WHERE card_uuid IN (" + placeholders(chunk.size()) + ")",
          rs -> {
            IssuedCard card =
                new IssuedCard(
                    rs.getString("card_uuid"),
                    rs.getString("service_id"),
                    rs.getString("rule_id"),
                    rs.getString("indicator"),
                    rs.getString("patient_hash"),
                    split(rs.getString("fact_hashes")),
                    decode(rs.getString("suggestion_uuids")),
                    split(rs.getString("override_reasons")),
                    rs.getTimestamp("issued_at").toInstant());
            out.put(card.cardUuid(), card);
          },
          chunk.toArray());
    }
    return out;
  }

  private static final int CHUNK = 100;

  private static String placeholders(int n) {
    return String.join(", ", java.util.Collections.nCopies(n, "?"));
  }

  /**
   * Stores a validated batch and its snoozes in one short transaction: one look-up of the entries
   * already stored, then batched inserts (repeated entries are ignored), and per patient and rule
   * the batch's last snooze replaces the stored one — rows touched in key order, so concurrent
   * batches cannot deadlock. A concurrent batch inserting the same entry or snooze first makes the
   * transaction retry (it then finds that row), up to {@value #MAX_ATTEMPTS} times.
   */
  void store(List<StoredFeedback> entries, List<Snooze> snoozes) {
    Map<String, StoredFeedback> byHash = new java.util.TreeMap<>();
    entries.forEach(e -> byHash.putIfAbsent(e.hash(), e));
    Map<List<String>, Snooze> byKey =
        new java.util.TreeMap<>(
            java.util.Comparator.<List<String>, String>comparing(k -> k.get(0))
                .thenComparing(k -> k.get(1)));
    snoozes.forEach(s -> byKey.put(List.of(s.patientHash(), s.ruleId()), s));
    for (int attempt = 1; ; attempt++) {
      try {
        transactions.executeWithoutResult(
            status -> {
              insertNew(byHash);
              replace(byKey.values());
            });
        return;
      } catch (DuplicateKeyException | org.springframework.dao.ConcurrencyFailureException e) {
        // Each round at least one of the contending batches commits; the others see its rows.
        if (attempt == MAX_ATTEMPTS) {
          throw e;
        }
        try {
          Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextInt(2, 20));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private static final int MAX_ATTEMPTS = 10;

  private void insertNew(Map<String, StoredFeedback> byHash) {
    if (byHash.isEmpty()) {
      return;
    }
    Set<String> stored = new java.util.HashSet<>();
    List<String> hashes = List.copyOf(byHash.keySet());
    for (int from = 0; from < hashes.size(); from += CHUNK) {
      List<String> chunk = hashes.subList(from, Math.min(hashes.size(), from + CHUNK));
      stored.addAll(
          jdbc.queryForList(
              "SELECT entry_hash FROM feedback WHERE entry_hash IN ("
                  + placeholders(chunk.size())
                  + ")",
              String.class,
              chunk.toArray()));
    }
    List<Object[]> rows = new ArrayList<>();
    for (StoredFeedback entry : byHash.values()) {
      if (!stored.contains(entry.hash())) {
        rows.add(
            new Object[] {
              entry.hash(),
              entry.cardUuid(),
              entry.outcome(),
              entry.overrideReason(),
              entry.acceptedSuggestions(),
              Timestamp.from(entry.outcomeTimestamp()),
              Timestamp.from(entry.receivedAt())
            });
      }
    }
    if (!rows.isEmpty()) {
      jdbc.batchUpdate(
          "INSERT INTO feedback (entry_hash, card_uuid, outcome, override_reason,"
              + " accepted_suggestions, outcome_timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
          rows);
    }
  }

  private void replace(Collection<Snooze> snoozes) {
    if (snoozes.isEmpty()) {
      return;
    }
    jdbc.batchUpdate(
        "DELETE FROM snooze WHERE patient_hash = ? AND rule_id = ?",
        snoozes.stream().map(s -> new Object[] {s.patientHash(), s.ruleId()}).toList());
    Timestamp now = Timestamp.from(clock.instant());
    jdbc.batchUpdate(
        "INSERT INTO snooze (patient_hash, rule_id, until_at, fact_hashes, reason, created_at)"
            + " VALUES (?, ?, ?, ?, ?, ?)",
        snoozes.stream()
            .map(
                s ->
                    new Object[] {
                      s.patientHash(),
                      s.ruleId(),
                      Timestamp.from(s.until()),
                      String.join(",", s.factHashes()),
                      s.reason(),
                      now
                    })
            .toList());
  }

  Optional<Snooze> snooze(String patientHash, String ruleId) {
    return jdbc
        .query(
            "SELECT * FROM snooze WHERE patient_hash = ? AND rule_id = ?",
            (rs, n) ->
                new Snooze(
                    rs.getString("patient_hash"),
                    rs.getString("rule_id"),
                    rs.getTimestamp("until_at").toInstant(),
                    split(rs.getString("fact_hashes")),
                    rs.getString("reason")),
            patientHash,
            ruleId)
        .stream()
        .findFirst();
  }

  void endSnooze(String patientHash, String ruleId) {
    jdbc.update("DELETE FROM snooze WHERE patient_hash = ? AND rule_id = ?", patientHash, ruleId);
  }

  void recordSnoozeHit(String ruleId, Instant at) {
    jdbc.update(
        "INSERT INTO snooze_hit (rule_id, hit_at) VALUES (?, ?)", ruleId, Timestamp.from(at));
  }

  /** Per rule: shown, accepted, overridden (and by reason), snoozed. */
  Map<String, RuleCounts> counts() {
    Map<String, RuleCounts> out = new LinkedHashMap<>();
    jdbc.query(
        "SELECT rule_id, COUNT(*) AS n FROM issued_card GROUP BY rule_id ORDER BY rule_id",
        rs -> {
          out.computeIfAbsent(rs.getString("rule_id"), RuleCounts::new).shown = rs.getLong("n");
        });
    jdbc.query(
        "SELECT c.rule_id, f.outcome, f.override_reason, COUNT(*) AS n FROM feedback f"
            + " JOIN issued_card c ON c.card_uuid = f.card_uuid"
            + " GROUP BY c.rule_id, f.outcome, f.override_reason",
        rs -> {
          RuleCounts counts = out.computeIfAbsent(rs.getString("rule_id"), RuleCounts::new);
          long n = rs.getLong("n");
          if ("accepted".equals(rs.getString("outcome"))) {
            counts.accepted += n;
          } else {
            counts.overridden += n;
            String reason = rs.getString("override_reason");
            counts.overriddenByReason.merge(reason == null ? "none" : reason, n, Long::sum);
          }
        });
    jdbc.query(
        "SELECT rule_id, COUNT(*) AS n FROM snooze_hit GROUP BY rule_id",
        rs -> {
          out.computeIfAbsent(rs.getString("rule_id"), RuleCounts::new).snoozed = rs.getLong("n");
        });
    return out;
  }

  /** Aggregates of one rule. */
  static final class RuleCounts {
    final String ruleId;
    long shown;
    long accepted;
    long overridden;
    final Map<String, Long> overriddenByReason = new LinkedHashMap<>();
    long snoozed;

    RuleCounts(String ruleId) {
      this.ruleId = ruleId;
    }
  }

  static Set<String> split(String text) {
    return text == null || text.isBlank()
        ? Set.of()
        : new LinkedHashSet<>(Arrays.asList(text.split(",")));
  }

  static String encode(Map<String, String> map) {
    List<String> parts = new ArrayList<>();
    map.forEach((k, v) -> parts.add(k + "=" + (v == null ? "" : v)));
    return String.join(",", parts);
  }

  static Map<String, String> decode(String text) {
    Map<String, String> map = new LinkedHashMap<>();
    for (String part : split(text)) {
      int eq = part.indexOf('=');
      map.put(part.substring(0, eq), part.substring(eq + 1));
    }
    return map;
  }

  /** One validated feedback entry as stored. */
  record StoredFeedback(
      String hash,
      String cardUuid,
      String outcome,
      String overrideReason,
      String acceptedSuggestions,
      Instant outcomeTimestamp,
      Instant receivedAt) {}
}
