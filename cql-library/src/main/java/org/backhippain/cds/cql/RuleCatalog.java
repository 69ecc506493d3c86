package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.elm.r1.And;
import org.hl7.elm.r1.Expression;
import org.hl7.elm.r1.ExpressionDef;
import org.hl7.elm.r1.ExpressionRef;
import org.hl7.elm.r1.Library;
import org.hl7.elm.r1.ValueSetDef;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;
import org.hl7.fhir.r4.model.TriggerDefinition;

/**
 * The rules of the content, one per PlanDefinition, and the Java-to-CQL contract: the names of the
 * defines every rule library exposes, and the card values its text templates use ({@link
 * CardTemplates}). A rule is added with content only (CQL, PlanDefinition, value sets, cases);
 * {@link #contractProblems} holds every library to this contract at build time.
 */
public final class RuleCatalog {
  /** Boolean: the rule's card is shown (inclusion, not exclusion, not suppressed). */
  public static final String APPLICABLE = "Is Recommendation Applicable";

  /** Tuple: the values the card's text templates and Why section are filled from. */
  public static final String CARD = "Card";

  /** Optional Tuple: rule-specific card values, merged over {@code Card}. */
  public static final String DETAILS = "Card Details";

  public static final List<String> CONTRACT = List.of(APPLICABLE, CARD);

  /** The library every rule includes for scope, episode and facts. */
  public static final String COMMON = "Common";

  /**
   * Boolean, in {@link #COMMON}: the patient is in scope (spec §4). Every rule's {@link
   * #APPLICABLE} starts with {@code Common."In Scope" and}, so it is evaluated first and alone
   * ({@link RuleEngine}) and a patient out of scope costs one define.
   */
  public static final String IN_SCOPE = "In Scope";

  /**
   * The library the build generates from the card templates into the package (what a CPG engine
   * shows as a card's summary and description), named by the PlanDefinitions' dynamic values.
   */
  public static final String CARD_TEXT = "CardText";

  private final List<RuleDefinition> rules;

  RuleCatalog(List<RuleDefinition> rules) {
    this.rules = List.copyOf(rules);
  }

  static RuleCatalog of(ContentPackage content) {
    List<RuleDefinition> rules = new ArrayList<>();
    for (PlanDefinition plan : content.planDefinitions()) {
      rules.add(definition(plan));
    }
    rules.sort(Comparator.comparing(RuleDefinition::ruleId));
    return new RuleCatalog(rules);
  }

  private static RuleDefinition definition(PlanDefinition plan) {
    String ruleId =
        plan.getTopic().stream()
            .flatMap(t -> t.getCoding().stream())
            .filter(c -> ContentPackage.RULE_SYSTEM.equals(c.getSystem()))
            .map(Coding::getCode)
            .findFirst()
            .orElseThrow(() -> new IllegalStateException(plan.getUrl() + ": no rule-id topic"));
    if (plan.getLibrary().size() != 1 || plan.getAction().size() != 1) {
      throw new IllegalStateException(plan.getUrl() + ": needs exactly one library and one action");
    }
    String library = plan.getLibrary().get(0).getValue();
    String libraryName = library.substring(library.lastIndexOf('/') + 1);
    PlanDefinitionActionComponent action = plan.getActionFirstRep();
    Set<String> hooks = new LinkedHashSet<>();
    for (TriggerDefinition trigger : action.getTrigger()) {
      if (trigger.getType() == TriggerDefinition.TriggerType.NAMEDEVENT) {
        hooks.add(trigger.getName());
      }
    }
    return new RuleDefinition(ruleId, hooks, libraryName, plan, action);
  }

  static Set<String> defines(CqlCompilation compilation, ContentPackage.CqlSource source) {
    Set<String> defines = new LinkedHashSet<>();
    for (ExpressionDef def : compilation.compiled(source).getLibrary().getStatements().getDef()) {
      defines.add(def.getName());
    }
    return defines;
  }

  /**
   * Whether the library's {@link #APPLICABLE} is {@code Common."In Scope" and ...}: its leftmost
   * conjunct, read from the ELM, is a reference to {@link #IN_SCOPE} in the library included as
   * {@link #COMMON}.
   */
  static boolean gatedByScope(CqlCompilation compilation, ContentPackage.CqlSource source) {
    Library library = compilation.compiled(source).getLibrary();
    Expression body =
        library.getStatements().getDef().stream()
            .filter(d -> APPLICABLE.equals(d.getName()))
            .map(ExpressionDef::getExpression)
            .findFirst()
            .orElse(null);
    while (body instanceof And and && !and.getOperand().isEmpty()) {
      body = and.getOperand().get(0);
    }
    if (!(body instanceof ExpressionRef ref)
        || !IN_SCOPE.equals(ref.getName())
        || ref.getLibraryName() == null
        || library.getIncludes() == null) {
      return false;
    }
    return library.getIncludes().getDef().stream()
        .anyMatch(
            i ->
                ref.getLibraryName().equals(i.getLocalIdentifier())
                    && (COMMON.equals(i.getPath()) || i.getPath().endsWith("/" + COMMON)));
  }

  public List<RuleDefinition> rules() {
    return rules;
  }

  public Optional<RuleDefinition> rule(String ruleId) {
    return rules.stream().filter(r -> r.ruleId().equals(ruleId)).findFirst();
  }

  public List<RuleDefinition> triggeredBy(String hook) {
    return rules.stream().filter(r -> r.triggeredBy(hook)).toList();
  }

  private static List<String> canonicals(PlanDefinitionActionComponent action) {
    List<String> urls = new ArrayList<>();
    if (action.hasDefinitionCanonicalType()) {
      urls.add(action.getDefinitionCanonicalType().getValue());
    }
    action.getAction().forEach(child -> urls.addAll(canonicals(child)));
    return urls;
  }

  /** Every way the content breaks the Java-to-CQL contract; empty when it holds. */
  static List<String> contractProblems(ContentPackage content, CqlCompilation compilation) {
    List<String> problems = new ArrayList<>();
    ContentTerminology terminology = new ContentTerminology(content);
    for (ContentPackage.CqlSource source : content.cql().values()) {
      var library = compilation.compiled(source).getLibrary();
      if (library.getValueSets() != null) {
        for (ValueSetDef vs : library.getValueSets().getDef()) {
          if (!terminology.knows(vs.getId())) {
            problems.add(source.path() + ": value set " + vs.getId() + " is not in content");
          }
        }
      }
    }
    RuleCatalog catalog;
    try {
      catalog = of(content);
    } catch (IllegalStateException e) {
      return List.of(e.getMessage());
    }
    Set<String> ids = new LinkedHashSet<>();
    for (RuleDefinition rule : catalog.rules()) {
      String where = rule.planDefinition().getUrl();
      if (!ids.add(rule.ruleId())) {
        problems.add(where + ": rule id " + rule.ruleId() + " used twice");
      }
      ContentPackage.CqlSource source = content.cql().get(rule.libraryName());
      if (source == null) {
        problems.add(where + ": library " + rule.libraryName() + " not in content");
        continue;
      }
      Set<String> defines = defines(compilation, source);
      for (String name : CONTRACT) {
        if (!defines.contains(name)) {
          problems.add(source.path() + ": missing define \"" + name + "\" (rule contract)");
        }
      }
      if (defines.contains(APPLICABLE) && !gatedByScope(compilation, source)) {
        problems.add(
            source.path()
                + ": \""
                + APPLICABLE
                + "\" must start with "
                + COMMON
                + ".\""
                + IN_SCOPE
                + "\" and (out-of-scope patients get no card, spec §4)");
      }
      for (String name : rule.referencedExpressions()) {
        if (!defines.contains(name)) {
          problems.add(
              where + ": names \"" + name + "\", which " + source.path() + " does not define");
        }
      }
      if (rule.hooks().isEmpty()) {
        problems.add(where + ": no named-event trigger (hook)");
      }
      boolean conditionNamesContract =
          rule.action().getCondition().stream()
              .map(c -> c.getExpression())
              .map(org.hl7.fhir.r4.model.Expression::getExpression)
              .anyMatch(APPLICABLE::equals);
      if (!conditionNamesContract) {
        problems.add(where + ": applicability condition must be \"" + APPLICABLE + "\"");
      }
      // Every condition and dynamic value names a define of the rule's library. Its language is
      // text/cql: R4 core's expression-language code system has no text/cql-identifier (R5 and CPG
      // add it; R4 validation rejects it), and a define name is a valid text/cql expression, which
      // CR servers evaluate against the PlanDefinition's library.
      rule.expressions().stream()
          .filter(e -> !ContentPackage.CQL.equals(e.getLanguage()))
          .forEach(
              e ->
                  problems.add(
                      where
                          + ": \""
                          + e.getExpression()
                          + "\" must be a define name in language "
                          + ContentPackage.CQL));
      // Dynamic values naming another library: the generated card text (CardText), whose defines
      // they must name.
      ContentPackage.CqlSource cardText = content.cql().get(CARD_TEXT);
      for (var e : rule.expressions()) {
        if (!e.hasReference()) {
          continue;
        }
        if (!e.getReference().equals(ContentPackage.CANONICAL_BASE + "/Library/" + CARD_TEXT)
            || cardText == null) {
          problems.add(
              where
                  + ": \""
                  + e.getExpression()
                  + "\" names "
                  + e.getReference()
                  + ", which is not the package's "
                  + CARD_TEXT
                  + " library");
        } else if (!defines(compilation, cardText).contains(e.getExpression())) {
          problems.add(
              where
                  + ": names \""
                  + e.getExpression()
                  + "\", which "
                  + CARD_TEXT
                  + " does not define");
        }
      }
      canonicals(rule.action()).stream()
          .filter(url -> content.activityDefinition(url).isEmpty())
          .forEach(url -> problems.add(where + ": ActivityDefinition " + url + " not in content"));
    }
    // Card text may use only the values the CQL gives; the check needs the translator's result
    // types, so it runs on a translation (the build's CqlCheck), not on precompiled ELM.
    if (!compilation.precompiled()) {
      problems.addAll(CardTemplates.problems(content, compilation, catalog));
    }
    return problems;
  }
}
