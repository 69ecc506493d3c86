package org.backhippain.cds.cql;

import java.util.Map;

/**
 * The outcome of one rule for one patient.
 *
 * @param card the rule's {@code Card} values as plain Java (empty when not applicable)
 * @param error why the rule could not be evaluated, or {@code null}
 */
public record RuleResult(
    RuleDefinition rule, boolean applicable, Map<String, Object> card, String error) {

  public RuleResult {
    card = card == null ? Map.of() : java.util.Collections.unmodifiableMap(card);
  }
}
