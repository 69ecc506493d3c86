package org.backhippain.cds.service.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backhippain.cds.cql.ContentPackage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Takes in a CDS Hooks feedback batch (§Feedback): validates every entry against the card log and
 * stores the batch, with the snoozes it creates ({@link SnoozePolicy}), only if every entry is
 * valid.
 */
@Service
public class FeedbackIntake {
  private static final Logger log = LoggerFactory.getLogger(FeedbackIntake.class);

  private final FeedbackStore store;
  private final SnoozePolicy snoozePolicy;
  private final FeedbackMetrics metrics;
  private final Clock clock;

  FeedbackIntake(
      FeedbackStore store, SnoozePolicy snoozePolicy, FeedbackMetrics metrics, Clock clock) {
    this.store = store;
    this.snoozePolicy = snoozePolicy;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** One rejected feedback entry. */
  public record EntryError(int index, List<String> errors) {}

  /**
   * Validates a feedback batch (CDS Hooks §Feedback) and stores it only if every entry is valid.
   * The cost is linear in the entries: the cards they name are read in one query per hundred, the
   * batch is written in one short transaction ({@link FeedbackStore#store}).
   *
   * @return the per-entry errors; empty when the batch was stored
   */
  public List<EntryError> receive(String serviceId, JsonNode body) {
    JsonNode entries = body == null ? null : body.get("feedback");
    if (entries == null || !entries.isArray() || entries.isEmpty()) {
      return List.of(new EntryError(-1, List.of("'feedback' must be a non-empty array")));
    }
    Instant now = clock.instant();
    List<String> cardIds = new ArrayList<>();
    entries.forEach(entry -> cardIds.add(entry.path("card").asText("")));
    Map<String, IssuedCard> issued =
        store.issued(cardIds.stream().filter(id -> !id.isBlank()).toList());
    List<EntryError> errors = new ArrayList<>();
    List<FeedbackStore.StoredFeedback> stored = new ArrayList<>();
    List<Snooze> snoozes = new ArrayList<>();
    List<String[]> counted = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      List<String> problems = new ArrayList<>();
      Optional<IssuedCard> card = Optional.empty();
      String cardId = cardIds.get(i);
      if (cardId.isBlank()) {
        problems.add("'card' (the card uuid) is required");
      } else {
        card = Optional.ofNullable(issued.get(cardId)).filter(c -> c.serviceId().equals(serviceId));
        if (card.isEmpty()) {
          problems.add("card " + shown(cardId) + " was not issued by this service");
        }
      }
      String outcome = entry.path("outcome").asText("");
      if (!outcome.equals("accepted") && !outcome.equals("overridden")) {
        problems.add("'outcome' must be accepted or overridden");
      }
      List<String> accepted = new ArrayList<>();
      entry.path("acceptedSuggestions").forEach(s -> accepted.add(s.path("id").asText("")));
      if (outcome.equals("accepted") && accepted.isEmpty()) {
        problems.add("an accepted outcome needs 'acceptedSuggestions'");
      }
      String reason = null;
      JsonNode reasonNode = entry.path("overrideReason").path("reason");
      if (!reasonNode.isMissingNode()) {
        reason = reasonNode.path("code").asText("");
        String system = reasonNode.path("system").asText(ContentPackage.OVERRIDE_REASON_SYSTEM);
        if (!ContentPackage.OVERRIDE_REASON_SYSTEM.equals(system)) {
          problems.add("override reason system is not the card's");
        }
      }
      Instant timestamp = null;
      try {
        timestamp = OffsetDateTime.parse(entry.path("outcomeTimestamp").asText("")).toInstant();
      } catch (DateTimeParseException e) {
        problems.add("'outcomeTimestamp' must be an RFC 3339 date-time with offset");
      }
      if (card.isPresent()) {
        IssuedCard c = card.get();
        for (String id : accepted) {
          if (!c.suggestions().containsKey(id)) {
            problems.add("suggestion " + shown(id) + " does not belong to the card");
          }
        }
        if (reason != null && !c.overrideReasons().contains(reason)) {
          problems.add("override reason " + shown(reason) + " is not one of the card's");
        }
      }
      if (!problems.isEmpty()) {
        errors.add(new EntryError(i, problems));
        continue;
      }
      IssuedCard c = card.orElseThrow();
      String hash =
          FactHashes.sha256(
              c.cardUuid() + "|" + outcome + "|" + reason + "|" + accepted + "|" + timestamp);
      stored.add(
          new FeedbackStore.StoredFeedback(
              hash, c.cardUuid(), outcome, reason, String.join(",", accepted), timestamp, now));
      snoozes.addAll(snoozePolicy.snoozesFor(c, outcome, accepted, now));
      counted.add(new String[] {c.ruleId(), outcome, reason == null ? "none" : reason});
    }
    if (errors.isEmpty()) {
      store.store(stored, snoozes);
      for (String[] c : counted) {
        metrics.received(c[0], c[1], c[2]);
      }
      log.info("feedback stored: {} entries, {} snoozes", stored.size(), snoozes.size());
    }
    return errors;
  }

  /** A caller's value quoted in an entry error: at most 64 characters. */
  private static String shown(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }
}
