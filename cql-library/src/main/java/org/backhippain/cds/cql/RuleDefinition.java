package org.backhippain.cds.cql;

import java.util.Set;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;

/**
 * One rule of the rule book, read from its PlanDefinition: the rule id (the card's topic code), the
 * hooks that trigger it, the CQL library that decides it, and the action that defines its card.
 */
public record RuleDefinition(
    String ruleId,
    Set<String> hooks,
    String libraryName,
    PlanDefinition planDefinition,
    PlanDefinitionActionComponent action) {

  public RuleDefinition {
    hooks = Set.copyOf(hooks);
  }

  public boolean triggeredBy(String hook) {
    return hooks.contains(hook);
  }
}
