package org.backhippain.cds.service.hooks;

import java.util.List;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.service.cards.CardFactory;
import org.backhippain.cds.service.cards.Indicator;
import org.backhippain.cds.service.discovery.CdsService;
import org.backhippain.cds.service.feedback.CardLog;
import org.backhippain.cds.service.feedback.FactHashes;
import org.springframework.stereotype.Component;

/**
 * The cards a hook's rule results would show, rendered, each with the hashes of the facts that
 * triggered it (what snoozes compare): applicable rules only, and at order-sign no info card
 * (clinical spec §2).
 */
@Component
class CardCandidates {
  private final CardFactory cards;

  CardCandidates(CardFactory cards) {
    this.cards = cards;
  }

  List<CardLog.Candidate> of(
      CdsService service, List<RuleResult> results, String patientId, String baseUrl) {
    return results.stream()
        .filter(RuleResult::applicable)
        .map(r -> new CardLog.Candidate(cards.card(r, patientId, baseUrl), FactHashes.of(r.card())))
        .filter(c -> !"order-sign".equals(service.hook()) || c.card().indicator() != Indicator.INFO)
        .toList();
  }
}
