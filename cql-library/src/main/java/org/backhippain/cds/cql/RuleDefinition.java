package org.backhippain.cds.cql;

import java.util.LinkedHashSet;
import java.util.Set;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;
import org.hl7.fhir.r4.model.RelatedArtifact;

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

  /** A documentation link shown only when the named CQL define is true. */
  public static final String SHOWN_WHEN =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/shown-when";

  public RuleDefinition {
    hooks = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(hooks));
  }

  public boolean triggeredBy(String hook) {
    return hooks.contains(hook);
  }

  /**
   * The card's indicator from the action's priority (clinical spec §3): routine → info, urgent →
   * warning, stat or asap → critical.
   */
  public String indicator() {
    if (action.getPriority() == null) {
      return "info";
    }
    return switch (action.getPriority()) {
      case STAT, ASAP -> "critical";
      case URGENT -> "warning";
      default -> "info";
    };
  }

  /**
   * The CQL defines of the rule's library the card needs besides the contract: conditions and
   * dynamic values of nested actions, and the conditions of links. Dynamic values that name another
   * library (the generated card text, for CPG engines) are not among them.
   */
  public Set<String> referencedExpressions() {
    Set<String> names = new LinkedHashSet<>();
    collect(action, names, true);
    return names;
  }

  /** Every Expression of the rule's action tree: conditions and dynamic values. */
  public java.util.List<org.hl7.fhir.r4.model.Expression> expressions() {
    java.util.List<org.hl7.fhir.r4.model.Expression> out = new java.util.ArrayList<>();
    collectExpressions(action, out);
    return out;
  }

  private static void collectExpressions(
      PlanDefinitionActionComponent a, java.util.List<org.hl7.fhir.r4.model.Expression> out) {
    a.getCondition().forEach(c -> out.add(c.getExpression()));
    a.getDynamicValue().forEach(d -> out.add(d.getExpression()));
    a.getAction().forEach(child -> collectExpressions(child, out));
  }

  private static void collect(PlanDefinitionActionComponent a, Set<String> names, boolean top) {
    if (!top) {
      a.getCondition().forEach(c -> names.add(c.getExpression().getExpression()));
    }
    a.getDynamicValue().stream()
        .filter(d -> !d.getExpression().hasReference())
        .forEach(d -> names.add(d.getExpression().getExpression()));
    for (RelatedArtifact doc : a.getDocumentation()) {
      Extension shownWhen = doc.getExtensionByUrl(SHOWN_WHEN);
      if (shownWhen != null) {
        names.add(shownWhen.getValue().primitiveValue());
      }
    }
    a.getAction().forEach(child -> collect(child, names, false));
  }
}
