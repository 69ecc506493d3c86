package org.backhippain.cds.service.cards;

import ca.uhn.fhir.context.FhirContext;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.Template;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.backhippain.cds.cql.CardTemplates;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.service.system.CdsProperties;
import org.hl7.fhir.r4.model.ActivityDefinition;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.RelatedArtifact;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Renders a rule's card from its PlanDefinition action (title → summary, description → detail,
 * priority → indicator, nested actions → suggestions, documentation → links, citations → Why
 * sources) and the values its CQL computed. All text lives in content; this class only fills the
 * templates. Templates are compiled once.
 */
@Component
public class CardFactory {
  private static final Logger log = LoggerFactory.getLogger(CardFactory.class);
  static final int SUMMARY_LIMIT = 139;
  static final String RECOMMENDED =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/suggestion-recommended";

  private final ContentPackage content;
  private final FhirContext fhir;
  private final String productName;
  private final Mustache.Compiler compiler;
  private final Template why;
  private final Map<String, Template> templates = new HashMap<>();
  private final List<Coding> overrideReasons;

  @org.springframework.beans.factory.annotation.Autowired
  CardFactory(
      ContentPackage content, RuleEngine engine, FhirContext fhir, CdsProperties properties) {
    this(content, engine, fhir, properties.productName());
  }

  /** Outside Spring (the rule book generator). */
  public CardFactory(
      ContentPackage content, RuleEngine engine, FhirContext fhir, String productName) {
    this.content = content;
    this.fhir = fhir;
    this.productName = productName;
    // Strict: a name the card values lack is an error (the build checks every template against
    // the CQL's result types); shared text ({{> name}}) comes from content/input/cards.
    this.compiler = CardTemplates.compiler(content);
    this.why = compiler.compile(content.file(CardTemplates.WHY).orElseThrow());
    for (RuleDefinition rule : engine.catalog().rules()) {
      CardTemplates.texts(rule.action())
          .forEach(t -> templates.computeIfAbsent(t, compiler::compile));
    }
    this.overrideReasons =
        content
            .codeSystem(ContentPackage.OVERRIDE_REASON_SYSTEM)
            .orElseThrow()
            .getConcept()
            .stream()
            .map(
                c -> new Coding(ContentPackage.OVERRIDE_REASON_SYSTEM, c.getCode(), c.getDisplay()))
            .toList();
  }

  private String render(String text, Map<String, Object> values) {
    if (text == null) {
      return null;
    }
    return templates.computeIfAbsent(text, compiler::compile).execute(values).strip();
  }

  /**
   * The card for an applicable rule.
   *
   * @param baseUrl the service's public base URL (no trailing slash)
   */
  public Card card(RuleResult result, String patientId, String baseUrl) {
    RuleDefinition rule = result.rule();
    PlanDefinitionActionComponent action = rule.action();
    Map<String, Object> values = CardTemplates.values(result);

    Indicator indicator = Indicator.of(action.getPriority());
    String summary = render(action.getTitle(), values);
    if (summary.length() > SUMMARY_LIMIT) {
      log.warn("rule {} summary cut to {} characters", rule.ruleId(), SUMMARY_LIMIT);
      summary = summary.substring(0, SUMMARY_LIMIT - 1) + "…";
    }
    String detail =
        render(action.getDescription(), values) + "\n" + why.execute(values).stripTrailing();
    List<Suggestion> suggestions = suggestions(result, values, patientId);
    return new Card(
        UUID.randomUUID().toString(),
        summary,
        detail,
        indicator,
        new Source(
            productName,
            baseUrl + "/review/" + rule.ruleId(),
            null,
            new Coding(
                ContentPackage.RULE_SYSTEM, rule.ruleId(), rule.planDefinition().getTitle())),
        suggestions.isEmpty() ? null : suggestions,
        suggestions.isEmpty() || !action.hasSelectionBehavior()
            ? (suggestions.isEmpty() ? null : "at-most-one")
            : action.getSelectionBehavior().toCode(),
        indicator == Indicator.INFO ? null : overrideReasons,
        links(result, baseUrl));
  }

  /**
   * The action's documentation as links, but for the rule's own page (the card's {@code source}).
   * The package's page links are absolute under its page base ({@link ContentPackage#pageBase});
   * this service serves those pages itself, so they point at its public base URL.
   */
  private List<Link> links(RuleResult result, String baseUrl) {
    List<Link> links = new ArrayList<>();
    String rulePage = content.pageLink(ContentPackage.RULE_PAGES + result.rule().ruleId());
    for (RelatedArtifact doc : result.rule().action().getDocumentation()) {
      var shownWhen = doc.getExtensionByUrl(RuleDefinition.SHOWN_WHEN);
      if (shownWhen != null && !result.isTrue(shownWhen.getValue().primitiveValue())) {
        continue;
      }
      if (doc.hasUrl() && !doc.getUrl().equals(rulePage)) {
        links.add(new Link(doc.getLabel(), served(doc.getUrl(), baseUrl), "absolute", null));
      }
    }
    return links.isEmpty() ? null : links;
  }

  private String served(String url, String baseUrl) {
    String pages = content.pageBase() + "/";
    return url.startsWith(pages) ? baseUrl + url.substring(pages.length() - 1) : url;
  }

  /** A nested action applies when every condition it names (a CQL define) is true. */
  private static boolean applies(PlanDefinitionActionComponent action, RuleResult result) {
    return action.getCondition().stream()
        .allMatch(c -> result.isTrue(c.getExpression().getExpression()));
  }

  private List<Suggestion> suggestions(
      RuleResult result, Map<String, Object> values, String patientId) {
    List<Suggestion> out = new ArrayList<>();
    for (PlanDefinitionActionComponent suggestion : result.rule().action().getAction()) {
      if (!applies(suggestion, result)) {
        continue;
      }
      List<PlanDefinitionActionComponent> steps =
          suggestion.hasAction() ? suggestion.getAction() : List.of(suggestion);
      List<SuggestionAction> actions = new ArrayList<>();
      for (PlanDefinitionActionComponent step : steps) {
        if (applies(step, result)) {
          actions.addAll(actions(step, result, values, patientId));
        }
      }
      if (actions.isEmpty()) {
        continue;
      }
      var recommended = suggestion.getExtensionByUrl(RECOMMENDED);
      out.add(
          new Suggestion(
              render(suggestion.getTitle(), values),
              UUID.randomUUID().toString(),
              recommended == null ? null : ((BooleanType) recommended.getValue()).booleanValue(),
              actions,
              suggestion.getId()));
    }
    return out;
  }

  /**
   * The CDS actions of one PlanDefinition action: {@code create} from its ActivityDefinition, or
   * one {@code delete} per reference its {@code resourceId} dynamic value lists.
   */
  private List<SuggestionAction> actions(
      PlanDefinitionActionComponent step,
      RuleResult result,
      Map<String, Object> values,
      String patientId) {
    String type = step.getType().getCodingFirstRep().getCode();
    String description = render(step.getDescription(), values);
    if ("create".equals(type) && step.hasDefinitionCanonicalType()) {
      String canonical = step.getDefinitionCanonicalType().getValue();
      ActivityDefinition definition = content.activityDefinition(canonical).orElseThrow();
      return List.of(
          new SuggestionAction("create", description, resource(definition, patientId), null));
    }
    if ("remove".equals(type)) {
      List<SuggestionAction> deletes = new ArrayList<>();
      for (var dynamic : step.getDynamicValue()) {
        if ("resourceId".equals(dynamic.getPath())
            && result.expressions().get(dynamic.getExpression().getExpression())
                instanceof List<?> ids) {
          ids.forEach(
              id -> deletes.add(new SuggestionAction("delete", description, null, id.toString())));
        }
      }
      return deletes;
    }
    throw new IllegalStateException("unsupported suggestion action: " + type);
  }

  /** Applies an ActivityDefinition for this patient: a draft request the clinician signs. */
  private String resource(ActivityDefinition definition, String patientId) {
    if (definition.getKind() != ActivityDefinition.ActivityDefinitionKind.SERVICEREQUEST) {
      throw new IllegalStateException(
          "unsupported ActivityDefinition kind " + definition.getKind());
    }
    ServiceRequest request = new ServiceRequest();
    request.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
    request.setIntent(
        ServiceRequest.ServiceRequestIntent.fromCode(definition.getIntent().toCode()));
    if (definition.hasPriority()) {
      request.setPriority(
          ServiceRequest.ServiceRequestPriority.fromCode(definition.getPriority().toCode()));
    }
    request.setCode(definition.getCode().copy());
    request.setSubject(new Reference("Patient/" + patientId));
    request.addInstantiatesCanonical(definition.getUrl());
    return fhir.newJsonParser().encodeResourceToString(request);
  }
}
