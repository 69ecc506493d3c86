package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import java.math.BigDecimal;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kotlin.Pair;
import org.backhippain.cds.fhir.PatientRecord;
import org.hl7.elm.r1.NamedTypeSpecifier;
import org.hl7.elm.r1.ParameterDef;
import org.hl7.elm.r1.VersionedIdentifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.opencds.cqf.cql.engine.data.CompositeDataProvider;
import org.opencds.cqf.cql.engine.data.DataProvider;
import org.opencds.cqf.cql.engine.execution.CqlEngine;
import org.opencds.cqf.cql.engine.execution.Environment;
import org.opencds.cqf.cql.engine.execution.EvaluationExpressionRef;
import org.opencds.cqf.cql.engine.execution.EvaluationParams;
import org.opencds.cqf.cql.engine.execution.EvaluationResult;
import org.opencds.cqf.cql.engine.execution.EvaluationResults;
import org.opencds.cqf.cql.engine.execution.ExpressionResult;
import org.opencds.cqf.cql.engine.fhir.model.R4FhirModelResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates the content's rules for one patient. The CQL is translated once when the engine is
 * built; each evaluation creates only a light engine over the patient's resources, sharing the
 * compiled libraries, the terminology and the FHIR model. A patient out of scope (Common's {@code
 * "In Scope"}, which every rule's applicability starts with) costs that one define. Thread-safe.
 */
public final class RuleEngine {
  private static final Logger log = LoggerFactory.getLogger(RuleEngine.class);
  private static final String FHIR_MODEL = "http://hl7.org/fhir";
  private static final String CONFIG_LIBRARY = "Config";

  /** Common's list of the relevant drafts' references (the order hooks' gate). */
  public static final String RELEVANT_DRAFTS = "Relevant Draft References";

  private final ContentPackage content;
  private final CqlCompilation compilation;
  private final ContentTerminology terminology;
  private final R4FhirModelResolver model;
  private final RuleCatalog catalog;
  private final Map<String, Object> siteParameters;
  private final Map<String, List<String>> expressionNames = new HashMap<>();
  private final VersionedIdentifier common;
  private final RetrieveSelection selection;

  private RuleEngine(
      ContentPackage content,
      CqlCompilation compilation,
      FhirContext fhir,
      Map<String, String> siteParameters) {
    this.content = content;
    this.compilation = compilation;
    this.terminology = new ContentTerminology(content);
    this.model = new SimplePathModelResolver(fhir);
    this.catalog = RuleCatalog.of(content);
    this.siteParameters = typedParameters(siteParameters);
    this.common = CqlCompilation.identifier(content.cql().get(RuleCatalog.COMMON));
    this.selection = RetrieveSelection.of(content, terminology);
    for (RuleDefinition rule : catalog.rules()) {
      Set<String> names = new java.util.LinkedHashSet<>(RuleCatalog.CONTRACT);
      if (RuleCatalog.defines(compilation, content.cql().get(rule.libraryName()))
          .contains(RuleCatalog.DETAILS)) {
        names.add(RuleCatalog.DETAILS);
      }
      names.addAll(rule.referencedExpressions());
      expressionNames.put(rule.ruleId(), List.copyOf(names));
    }
  }

  /**
   * Translates the content's CQL and prepares the rules.
   *
   * @param siteParameters overrides of the Config library's parameters, by parameter name, as text
   *     (converted to the parameter's declared CQL type; an unknown name fails start-up)
   * @throws IllegalStateException when the content does not compile or breaks the rule contract
   */
  public static RuleEngine start(
      ContentPackage content, FhirContext fhir, Map<String, String> siteParameters) {
    long start = System.nanoTime();
    CqlCompilation compilation = CqlCompilation.of(content);
    List<String> problems = new ArrayList<>();
    compilation.problems().forEach(p -> problems.add(p.toString()));
    if (problems.isEmpty()) {
      problems.addAll(RuleCatalog.contractProblems(content, compilation));
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException("content does not compile: " + String.join("; ", problems));
    }
    RuleEngine engine = new RuleEngine(content, compilation, fhir, siteParameters);
    log.info(
        "CQL {}: {} libraries, {} rules, in {} ms",
        compilation.precompiled() ? "loaded from precompiled ELM" : "translated",
        content.cql().size(),
        engine.catalog.rules().size(),
        (System.nanoTime() - start) / 1_000_000);
    return engine;
  }

  public RuleCatalog catalog() {
    return catalog;
  }

  public ContentPackage content() {
    return content;
  }

  /**
   * Which resources some retrieve of the content can match (from its data requirements, by the
   * engine's own terminology): what a data loader need not parse.
   */
  public RetrieveSelection selection() {
    return selection;
  }

  /** Evaluates every rule the hook triggers; rules are returned in catalog order. */
  public List<RuleResult> evaluate(EvaluationInput input) {
    return evaluate(input, Map.of()).results();
  }

  /**
   * The rules' results and, in the same evaluation, further defines of the content's libraries by
   * library name (e.g. {@code ImagingNotIndicated}: {@code "Inclusion Criteria"}), for measures
   * over a population that count what a card's criteria decided. Values are plain Java ({@link
   * CqlValues}), keyed {@code Library.define}; a define that could not be evaluated is absent.
   */
  public Evaluation evaluate(EvaluationInput input, Map<String, List<String>> alsoDefines) {
    List<RuleDefinition> rules = catalog.triggeredBy(input.hook());
    if (rules.isEmpty() && alsoDefines.isEmpty()) {
      return new Evaluation(List.of(), Map.of());
    }
    PatientRecord record = input.record();
    List<Resource> resources = new ArrayList<>(record.resources().size() + 1);
    resources.add(record.patient());
    resources.addAll(record.resources());

    Map<VersionedIdentifier, List<EvaluationExpressionRef>> expressions = new LinkedHashMap<>();
    for (RuleDefinition rule : rules) {
      expressions.put(identifier(rule), expressionsOf(rule));
    }
    Map<String, VersionedIdentifier> extra = new LinkedHashMap<>();
    alsoDefines.forEach(
        (library, names) -> {
          ContentPackage.CqlSource source = content.cql().get(library);
          if (source == null) {
            throw new IllegalArgumentException("no CQL library " + library);
          }
          VersionedIdentifier id = CqlCompilation.identifier(source);
          extra.put(library, id);
          List<EvaluationExpressionRef> refs =
              new ArrayList<>(expressions.getOrDefault(id, List.of()));
          names.forEach(n -> refs.add(new EvaluationExpressionRef(n)));
          expressions.put(id, refs);
        });
    CqlEngine engine = engine(resources);
    Pair<String, Object> patient = new Pair<>("Patient", record.patient().getIdPart());
    Map<String, Object> parameters =
        parameters(
            input.hook(),
            record.unavailable(),
            record.unusable(),
            input.drafts(),
            input.allDrafts());
    if (alsoDefines.isEmpty() && outOfScope(engine, patient, parameters, input.now())) {
      // Every rule's applicability starts with Common."In Scope" (RuleCatalog's contract).
      return new Evaluation(
          rules.stream().map(r -> new RuleResult(r, false, null, null, null)).toList(), Map.of());
    }
    EvaluationResults results =
        engine.evaluate(new EvaluationParams(expressions, patient, parameters, null, input.now()));

    List<RuleResult> out = new ArrayList<>(rules.size());
    for (RuleDefinition rule : rules) {
      out.add(result(rule, identifier(rule), results));
    }
    Map<String, Object> defines = new LinkedHashMap<>();
    extra.forEach(
        (library, id) -> {
          if (results.containsExceptionsFor(id)) {
            return;
          }
          EvaluationResult result = results.getResultFor(id);
          for (String name : alsoDefines.get(library)) {
            ExpressionResult value = result == null ? null : result.get(name);
            if (value != null) {
              defines.put(library + "." + name, CqlValues.plain(value.getValue()));
            }
          }
        });
    return new Evaluation(out, defines);
  }

  /**
   * Common's {@code "In Scope"} alone: true when it is false (an error or a null counts as in
   * scope, so that the full evaluation reports it rule by rule).
   */
  private boolean outOfScope(
      CqlEngine engine,
      Pair<String, Object> patient,
      Map<String, Object> parameters,
      ZonedDateTime now) {
    EvaluationResults scope =
        engine.evaluate(
            new EvaluationParams(
                Map.of(common, List.of(new EvaluationExpressionRef(RuleCatalog.IN_SCOPE))),
                patient,
                parameters,
                null,
                now));
    if (scope.containsExceptionsFor(common) || scope.getResultFor(common) == null) {
      return false;
    }
    ExpressionResult inScope = scope.getResultFor(common).get(RuleCatalog.IN_SCOPE);
    return inScope != null && Boolean.FALSE.equals(inScope.getValue());
  }

  /**
   * One evaluation's rule results and the further defines asked for.
   *
   * @param defines by {@code Library.define}; a value may be {@code null} (CQL null)
   */
  public record Evaluation(List<RuleResult> results, Map<String, Object> defines) {
    public Evaluation {
      results = List.copyOf(results);
      defines = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(defines));
    }

    /** A define's value as a boolean ({@code null} or absent counts as false). */
    public boolean isTrue(String libraryDefine) {
      return Boolean.TRUE.equals(defines.get(libraryDefine));
    }
  }

  /**
   * The references ({@code Type/id}) of the drafts that make an order hook worth answering
   * (imaging, PT referral, systemic corticosteroid, opioid), decided by the Common library on the
   * drafts alone, before any patient data is read.
   */
  public List<String> relevantDrafts(
      String hook, String patientId, List<Resource> drafts, ZonedDateTime now) {
    if (drafts.isEmpty()) {
      return List.of();
    }
    Patient placeholder = new Patient();
    placeholder.setId(patientId);
    EvaluationResults results =
        engine(List.of(placeholder))
            .evaluate(
                new EvaluationParams(
                    Map.of(common, List.of(new EvaluationExpressionRef(RELEVANT_DRAFTS))),
                    new Pair<>("Patient", patientId),
                    parameters(hook, Set.of(), Set.of(), drafts, drafts),
                    null,
                    now));
    if (results.containsExceptionsFor(common)) {
      throw new IllegalStateException(
          "draft relevance could not be evaluated", results.getExceptionFor(common));
    }
    Object value = CqlValues.plain(results.getResultFor(common).get(RELEVANT_DRAFTS).getValue());
    List<String> references = new ArrayList<>();
    if (value instanceof List<?> list) {
      list.forEach(v -> references.add(String.valueOf(v)));
    }
    return references;
  }

  private CqlEngine engine(List<Resource> resources) {
    DataProvider data =
        new CompositeDataProvider(
            model, new PatientRetrieveProvider(resources, terminology, model));
    Environment environment =
        new Environment(compilation.libraryManager(), Map.of(FHIR_MODEL, data), terminology);
    return new CqlEngine(environment, Set.of(CqlEngine.Options.EnableExpressionCaching));
  }

  private Map<String, Object> parameters(
      String hook,
      Set<String> unavailable,
      Set<String> unusable,
      List<Resource> drafts,
      List<Resource> allDrafts) {
    Map<String, Object> parameters = new HashMap<>(siteParameters);
    parameters.put("Hook", hook);
    parameters.put("Unavailable Data", List.copyOf(unavailable));
    parameters.put("Unusable Data", shownUnusable(unusable));
    parameters.put("Draft Orders", valid(drafts));
    parameters.put("All Draft Orders", valid(allDrafts));
    return parameters;
  }

  /** At most {@value #MAX_UNUSABLE_SHOWN} element paths for the Why; the rest counted. */
  static List<String> shownUnusable(Set<String> unusable) {
    if (unusable.size() <= MAX_UNUSABLE_SHOWN) {
      return List.copyOf(unusable);
    }
    List<String> shown = new ArrayList<>(unusable).subList(0, MAX_UNUSABLE_SHOWN - 1);
    List<String> out = new ArrayList<>(shown);
    out.add("and " + (unusable.size() - shown.size()) + " more elements");
    return out;
  }

  static final int MAX_UNUSABLE_SHOWN = 10;

  /**
   * Drafts the CQL may see: one marked entered-in-error is ignored everywhere (spec §4), as the
   * patient's resources are ({@link PatientRetrieveProvider}): the relevant-draft gate, the cards,
   * an analgesic trial.
   */
  private static List<Resource> valid(List<Resource> drafts) {
    return drafts.stream().filter(d -> !PatientRetrieveProvider.enteredInError(d)).toList();
  }

  private List<EvaluationExpressionRef> expressionsOf(RuleDefinition rule) {
    return expressionNames.get(rule.ruleId()).stream().map(EvaluationExpressionRef::new).toList();
  }

  private RuleResult result(
      RuleDefinition rule, VersionedIdentifier id, EvaluationResults results) {
    if (results.containsExceptionsFor(id)) {
      RuntimeException e = results.getExceptionFor(id);
      log.error(
          "rule {} could not be evaluated: {}", rule.ruleId(), e.getClass().getSimpleName(), e);
      return new RuleResult(rule, false, null, null, e.getClass().getSimpleName());
    }
    EvaluationResult result = results.getResultFor(id);
    if (result == null) {
      // The engine stopped before this library (an exception in a library it includes).
      log.error("rule {} could not be evaluated: no result", rule.ruleId());
      return new RuleResult(rule, false, null, null, "no result");
    }
    ExpressionResult applicable = result.get(RuleCatalog.APPLICABLE);
    if (applicable == null || !Boolean.TRUE.equals(applicable.getValue())) {
      return new RuleResult(rule, false, null, null, null);
    }
    Map<String, Object> values = new LinkedHashMap<>(asMap(result.get(RuleCatalog.CARD)));
    ExpressionResult details = result.get(RuleCatalog.DETAILS);
    if (details != null) {
      values.putAll(asMap(details));
    }
    Map<String, Object> expressions = new LinkedHashMap<>();
    for (String name : rule.referencedExpressions()) {
      ExpressionResult value = result.get(name);
      expressions.put(name, value == null ? null : CqlValues.plain(value.getValue()));
    }
    return new RuleResult(rule, true, values, expressions, null);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(ExpressionResult result) {
    Object value = result == null ? null : CqlValues.plain(result.getValue());
    return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  private VersionedIdentifier identifier(RuleDefinition rule) {
    return CqlCompilation.identifier(content.cql().get(rule.libraryName()));
  }

  private Map<String, Object> typedParameters(Map<String, String> overrides) {
    Map<String, Object> typed = new HashMap<>();
    if (overrides.isEmpty()) {
      return typed;
    }
    ContentPackage.CqlSource config = content.cql().get(CONFIG_LIBRARY);
    Map<String, String> declared = new HashMap<>();
    for (ParameterDef def : compilation.compiled(config).getLibrary().getParameters().getDef()) {
      String type =
          def.getParameterTypeSpecifier() instanceof NamedTypeSpecifier named
              ? named.getName().getLocalPart()
              : String.valueOf(def.getResultTypeName().getLocalPart());
      declared.put(def.getName(), type);
    }
    overrides.forEach(
        (name, text) -> {
          String type = declared.get(name);
          if (type == null) {
            throw new IllegalStateException(
                "site parameter '" + name + "' is not a parameter of the Config library");
          }
          typed.put(CONFIG_LIBRARY + "." + name, convert(name, type, text.strip()));
        });
    return typed;
  }

  private static Object convert(String name, String type, String text) {
    try {
      return switch (type) {
        case "Integer" -> Integer.valueOf(text);
        case "Decimal" -> new BigDecimal(text);
        case "String" -> text;
        case "Boolean" -> {
          if (!text.equals("true") && !text.equals("false")) {
            throw new IllegalArgumentException("expected true or false");
          }
          yield Boolean.valueOf(text);
        }
        default -> throw new IllegalArgumentException("unsupported parameter type " + type);
      };
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "site parameter '" + name + "' (" + type + "): " + e.getMessage(), e);
    }
  }
}
