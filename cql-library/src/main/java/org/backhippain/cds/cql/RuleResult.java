package org.backhippain.cds.cql;

import java.util.Map;

/**
 * The outcome of one rule for one patient.
 *
 * @param card the rule's {@code Card} values as plain Java (empty when not applicable)
 * @param expressions the values of the other defines its PlanDefinition names (nested action
 *     conditions, dynamic values, conditional links), by define name
 * @param error why the rule could not be evaluated, or {@code null}
 */
public record RuleResult(
    RuleDefinition rule,
    boolean applicable,
    Map<String, Object> card,
    Map<String, Object> expressions,
    String error) {

  public RuleResult {
    card = card == null ? Map.of() : java.util.Collections.unmodifiableMap(card);
    expressions =
        expressions == null ? Map.of() : java.util.Collections.unmodifiableMap(expressions);
  }

  /** A define's value as a boolean ({@code null} counts as false). */
  public boolean isTrue(String define) {
    return Boolean.TRUE.equals(expressions.get(define));
  }
}
