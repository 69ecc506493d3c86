package org.backhippain.cds.service.feedback;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
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

  FeedbackStore(JdbcTemplate jdbc, TransactionTemplate transactions) {
    this.jdbc = jdbc;
    this.transactions = transactions;
  }

  /** The secret for keyed patient hashes: created once, shared by every instance. */
  String secret(String name) {
    List<String> found =
        jdbc.queryForList("SELECT secret FROM service_secret WHERE name = ?", String.class, name);
    if (!found.isEmpty()) {
      return found.get(0);
    }
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    try {
      jdbc.update(
          "INSERT INTO service_secret (name, secret) VALUES (?, ?)",
          name,
          HexFormat.of().formatHex(bytes));
    } catch (DuplicateKeyException raced) {
      // another instance created it first
    }
    return jdbc.queryForObject(
        "SELECT secret FROM service_secret WHERE name = ?", String.class, name);
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
    return jdbc
        .query(
            "SELECT * FROM issued_card WHERE card_uuid = ?",
            (rs, n) ->
                new IssuedCard(
                    rs.getString("card_uuid"),
                    rs.getString("service_id"),
                    rs.getString("rule_id"),
                    rs.getString("indicator"),
                    rs.getString("patient_hash"),
                    split(rs.getString("fact_hashes")),
                    decode(rs.getString("suggestion_uuids")),
                    split(rs.getString("override_reasons")),
                    rs.getTimestamp("issued_at").toInstant()),
            cardUuid)
        .stream()
        .findFirst();
  }

  /** Stores a validated batch and its snoozes in one transaction; repeated entries are ignored. */
  void store(List<StoredFeedback> entries, List<Snooze> snoozes) {
    transactions.executeWithoutResult(
        status -> {
          for (StoredFeedback entry : entries) {
            Integer seen =
                jdbc.queryForObject(
                    "SELECT COUNT(*) FROM feedback WHERE entry_hash = ?",
                    Integer.class,
                    entry.hash());
            if (seen != null && seen > 0) {
              continue;
            }
            jdbc.update(
                "INSERT INTO feedback (entry_hash, card_uuid, outcome, override_reason,"
                    + " accepted_suggestions, outcome_timestamp, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                entry.hash(),
                entry.cardUuid(),
                entry.outcome(),
                entry.overrideReason(),
                entry.acceptedSuggestions(),
                Timestamp.from(entry.outcomeTimestamp()),
                Timestamp.from(entry.receivedAt()));
          }
          for (Snooze snooze : snoozes) {
            jdbc.update(
                "DELETE FROM snooze WHERE patient_hash = ? AND rule_id = ?",
                snooze.patientHash(),
                snooze.ruleId());
            jdbc.update(
                "INSERT INTO snooze (patient_hash, rule_id, until_at, fact_hashes, reason, created_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?)",
                snooze.patientHash(),
                snooze.ruleId(),
                Timestamp.from(snooze.until()),
                String.join(",", snooze.factHashes()),
                snooze.reason(),
                Timestamp.from(Instant.now()));
          }
        });
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
