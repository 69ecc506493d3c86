package org.backhippain.cds.service.feedback;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.service.cards.Card;
import org.backhippain.cds.service.cards.Coding;
import org.backhippain.cds.service.cards.Suggestion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The log of the cards shown: the last step of a hook call drops the cards snoozed for the patient
 * ({@link SnoozePolicy}) and records the others (patient as a {@link PatientPseudonyms pseudonym},
 * facts as {@link FactHashes}), so that feedback can later name them.
 */
@Service
public class CardLog {
  private static final Logger log = LoggerFactory.getLogger(CardLog.class);

  private final FeedbackStore store;
  private final PatientPseudonyms pseudonyms;
  private final SnoozePolicy snoozes;
  private final FeedbackMetrics metrics;
  private final Clock clock;
  private final TransactionTemplate transactions;

  CardLog(
      FeedbackStore store,
      PatientPseudonyms pseudonyms,
      SnoozePolicy snoozes,
      FeedbackMetrics metrics,
      Clock clock,
      TransactionTemplate transactions) {
    this.store = store;
    this.pseudonyms = pseudonyms;
    this.snoozes = snoozes;
    this.metrics = metrics;
    this.clock = clock;
    this.transactions = transactions;
  }

  /** A card about to be shown, with the hashes of the facts that triggered it. */
  public record Candidate(Card card, Set<String> factHashes) {}

  /**
   * Start-up warm-up of {@link #show}: the snooze look-ups and the card-log insert run for a
   * placeholder patient inside a transaction that is rolled back, so nothing is stored.
   *
   * @return false when the store could not be reached (then do not try again: each try waits for
   *     the connection timeout)
   */
  public boolean rehearse(String serviceId, List<Candidate> candidates) {
    try {
      transactions.executeWithoutResult(
          status -> {
            status.setRollbackOnly();
            show(serviceId, "warm-up", candidates);
          });
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * The cards to show after snoozes; records them in the card log. If the database cannot be
   * reached the cards are shown unfiltered and unrecorded, and the log says so.
   */
  public List<Card> show(String serviceId, String patientId, List<Candidate> candidates) {
    if (candidates.isEmpty()) {
      return List.of();
    }
    try {
      String patient = pseudonyms.of(patientId);
      Instant now = clock.instant();
      List<Card> shown = new ArrayList<>();
      List<IssuedCard> issued = new ArrayList<>();
      for (Candidate candidate : candidates) {
        Card card = candidate.card();
        if (snoozes.snoozed(patient, card, candidate.factHashes(), now)) {
          store.recordSnoozeHit(card.ruleId(), now);
          metrics.snoozed(card.ruleId());
          continue;
        }
        shown.add(card);
        issued.add(
            new IssuedCard(
                card.uuid(),
                serviceId,
                card.ruleId(),
                card.indicator().name().toLowerCase(java.util.Locale.ROOT),
                patient,
                candidate.factHashes(),
                suggestions(card),
                reasons(card),
                now));
      }
      store.recordIssued(issued);
      return shown;
    } catch (DataAccessException e) {
      log.error(
          "feedback store unavailable ({}): snoozes not applied, cards not logged",
          e.getClass().getSimpleName());
      return candidates.stream().map(Candidate::card).toList();
    }
  }

  private static Map<String, String> suggestions(Card card) {
    Map<String, String> map = new java.util.LinkedHashMap<>();
    if (card.suggestions() != null) {
      for (Suggestion s : card.suggestions()) {
        map.put(s.uuid(), s.definitionId());
      }
    }
    return map;
  }

  private static Set<String> reasons(Card card) {
    Set<String> codes = new LinkedHashSet<>();
    if (card.overrideReasons() != null) {
      card.overrideReasons().stream().map(Coding::code).forEach(codes::add);
    }
    return codes;
  }
}
