package org.backhippain.cds.service.feedback;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.service.cards.Card;
import org.backhippain.cds.service.cards.Indicator;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * When a card is snoozed for a patient, and which snoozes feedback creates. An overridden card
 * snoozes its rule for that patient for the rule's {@code snooze-days} (a content extension,
 * default {@value #DEFAULT_SNOOZE_DAYS} days; critical cards never); an accepted suggestion
 * silences its rule for the suggestion's {@code silence-on-accept-days}, if it has that extension.
 * A snooze ends early when a triggering fact appears that the snoozed card did not have.
 */
@Component
class SnoozePolicy {
  private static final Logger log = LoggerFactory.getLogger(SnoozePolicy.class);
  static final String SNOOZE_DAYS =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/snooze-days";
  static final String SILENCE_ON_ACCEPT =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/silence-on-accept-days";
  static final int DEFAULT_SNOOZE_DAYS = 30;

  private final FeedbackStore store;
  private final RuleEngine engine;

  SnoozePolicy(FeedbackStore store, RuleEngine engine) {
    this.store = store;
    this.engine = engine;
  }

  /**
   * Whether the card is snoozed for this patient now. A snooze whose card lacked one of these
   * triggering facts is ended here (deleted), and the card is shown.
   */
  boolean snoozed(String patient, Card card, Set<String> facts, Instant now) {
    if (card.indicator() == Indicator.CRITICAL) {
      return false;
    }
    Optional<Snooze> snooze = store.snooze(patient, card.ruleId());
    if (snooze.isEmpty() || !snooze.get().until().isAfter(now)) {
      return false;
    }
    if (!snooze.get().factHashes().containsAll(facts)) {
      store.endSnooze(patient, card.ruleId());
      log.info("snooze of {} ended early: a new triggering fact", card.ruleId());
      return false;
    }
    return true;
  }

  /** The snoozes one valid feedback entry on an issued card creates (none for an unknown rule). */
  List<Snooze> snoozesFor(IssuedCard card, String outcome, List<String> accepted, Instant now) {
    Optional<RuleDefinition> rule = engine.catalog().rule(card.ruleId());
    if (rule.isEmpty()) {
      return List.of();
    }
    List<Snooze> out = new ArrayList<>();
    if (outcome.equals("overridden") && !card.indicator().equals("critical")) {
      int days = intExtension(rule.get().action(), SNOOZE_DAYS).orElse(DEFAULT_SNOOZE_DAYS);
      out.add(snooze(card, now, days, "overridden"));
    }
    if (outcome.equals("accepted")) {
      for (String id : accepted) {
        String definition = card.suggestions().get(id);
        rule.get().action().getAction().stream()
            .filter(a -> a.getId() != null && a.getId().equals(definition))
            .findFirst()
            .flatMap(a -> intExtension(a, SILENCE_ON_ACCEPT))
            .ifPresent(days -> out.add(snooze(card, now, days, "accepted")));
      }
    }
    return out;
  }

  /** The card's rule snoozed for this patient for {@code days} from now. */
  private static Snooze snooze(IssuedCard card, Instant now, int days, String why) {
    return new Snooze(
        card.patientHash(), card.ruleId(), now.plus(Duration.ofDays(days)), card.factHashes(), why);
  }

  private static Optional<Integer> intExtension(PlanDefinitionActionComponent action, String url) {
    var extension = action.getExtensionByUrl(url);
    return extension != null && extension.getValue() instanceof IntegerType i
        ? Optional.of(i.getValue())
        : Optional.empty();
  }
}
