package org.backhippain.cds.portability;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.InputStream;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.backhippain.cds.cql.CardTemplates;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.fhir.PatientRecord;
import org.hl7.elm.r1.VersionedIdentifier;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IBaseParameters;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.ParameterDefinition;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.PlanDefinition;
import org.hl7.fhir.r4.model.RequestGroup;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.utilities.npm.NpmPackage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opencds.cqf.cql.engine.execution.CqlEngine;
import org.opencds.cqf.cql.engine.execution.EvaluationResults;
import org.opencds.cqf.fhir.cql.EvaluationSettings;
import org.opencds.cqf.fhir.cql.LibraryEngine;
import org.opencds.cqf.fhir.cql.engine.parameters.CqlFhirParametersConverter;
import org.opencds.cqf.fhir.cql.engine.retrieve.RetrieveSettings;
import org.opencds.cqf.fhir.cql.engine.terminology.TerminologySettings;
import org.opencds.cqf.fhir.cr.CrSettings;
import org.opencds.cqf.fhir.cr.plandefinition.PlanDefinitionProcessor;
import org.opencds.cqf.fhir.utility.monad.Eithers;
import org.opencds.cqf.fhir.utility.repository.InMemoryFhirRepository;

/**
 * The FHIR package, as a CPG engine runs it: cqframework clinical-reasoning's {@code
 * PlanDefinition/$apply} (the engine inside HAPI FHIR's JPA server) over an in-memory repository
 * holding only the package and one case's patient data, for every content case, each rule whose
 * PlanDefinition trigger is the case's hook, its result mapped to cards as HAPI's CDS Hooks bridge
 * does (one card per RequestGroup action: title → summary, description → detail, priority →
 * indicator). The cards must be the service's: the same rule ids, indicators, summaries, and
 * details without the Why section.
 *
 * <p>Each side gets what it would be given. The peer's repository holds the patient's data as the
 * EHR sends it ({@code bundle.json}); it gets the drafts as HAPI's bridge passes them, every
 * resource of {@code context.draftOrders} in the CQL parameter {@code draftOrders}, with neither
 * the hook's name nor {@code selections}; an order-select case also runs at order-sign. Where the
 * service knows more than those inputs say, the case is not portable: {@link #NOT_PORTABLE} says
 * why, and the test checks that the case differs and that it differs only for that reason.
 */
class PortabilityTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final String ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm";
  static final String CPG_PARAMETER_DEFINITION =
      "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-parameterDefinition";

  /** Why a case's service answer is not what a CPG engine gives, and what would make it so. */
  enum Gap {
    SELECTIONS(
        "order-select's context.selections: HAPI's bridge passes every draft of"
            + " context.draftOrders and no selections, so a draft the clinician did not select"
            + " counts too (checked: the service given every draft as selected answers as the peer)"),
    TIME_ZONE(
        "a date-time whose offset puts it on another calendar day than in the service's time zone:"
            + " the service converts every date-time into its zone before the CQL sees it (CQL has"
            + " no zone rules); a CPG engine dates it by the offset written (checked: given the"
            + " date-times in the service's zone, the peer answers as the service)"),
    ICD10_WITHOUT_DOT(
        "an ICD-10-CM code sent without its dot (clinical spec §4) matches only in the service's"
            + " terminology; a CPG engine matches the expansion's codes as written (checked: with"
            + " the dot, the peer answers as the service)");

    final String reason;

    Gap(String reason) {
      this.reason = reason;
    }
  }

  /**
   * Cases whose service answer a CPG engine cannot give, with the reason. Each must really differ,
   * and differ only by its reason; a case that becomes portable is to be removed from here.
   */
  static final Map<String, Gap> NOT_PORTABLE =
      Map.ofEntries(
          Map.entry("ImagingNotIndicated/neg-imaging-draft-not-selected", Gap.SELECTIONS),
          Map.entry("PtReferral/pos-icd10-code-without-dot", Gap.ICD10_WITHOUT_DOT),
          Map.entry(
              "RedFlagMalignancy/pos-secondary-neuroendocrine-tumor-of-bone-c7b",
              Gap.ICD10_WITHOUT_DOT),
          Map.entry(
              "PtReferral/neg-pt-procedure-late-evening-minus-5-hours-is-on-the-onset-day",
              Gap.TIME_ZONE),
          Map.entry(
              "PtReferral/neg-pt-referral-late-evening-minus-5-hours-is-on-the-onset-day",
              Gap.TIME_ZONE),
          Map.entry(
              "RedFlagFracture/pos-90-day-course-authored-late-evening-minus-5-hours-365-days-ago",
              Gap.TIME_ZONE),
          Map.entry(
              "RedFlagFracture/pos-lumbar-fracture-recorded-91-days-ago-late-evening-minus-5-hours",
              Gap.TIME_ZONE),
          Map.entry(
              "CaudaEquina/pos-urinary-retention-31-days-ago-late-evening-minus-5-hours",
              Gap.TIME_ZONE),
          Map.entry(
              "RedFlagInfection/pos-fever-temperature-instant-15-days-ago-late-evening-minus-5-hours",
              Gap.TIME_ZONE),
          Map.entry(
              "OpioidFirstLineCaution/neg-ibuprofen-31-days-ago-late-evening-minus-5-hours",
              Gap.TIME_ZONE));

  static ContentPackage content;
  static RuleEngine engine;
  static List<IBaseResource> packageResources = new ArrayList<>();
  static Map<String, PlanDefinition> plans = new TreeMap<>();
  static CrSettings settings;
  static final Map<String, Row> rows = new TreeMap<>();
  static long peerNanos;
  static int applies;

  @BeforeAll
  static void load() throws IOException {
    content = ContentPackage.load(FHIR);
    engine = RuleEngine.start(content, FHIR, Map.of());
    try (InputStream in =
        ContentPackage.class
            .getClassLoader()
            .getResourceAsStream(ContentPackage.PACKAGE_RESOURCE)) {
      NpmPackage npm = NpmPackage.fromPackage(in);
      for (String file : npm.listResources()) {
        try (InputStream r = npm.loadResource(file)) {
          IBaseResource resource = FHIR.newJsonParser().parseResource(r);
          packageResources.add(resource);
          if (resource instanceof PlanDefinition plan) {
            plans.put(plan.getIdElement().getIdPart(), plan);
          }
        }
      }
    }
    // One evaluation-settings object for every $apply: its library, model and value-set caches
    // are shared (a fresh evaluator costs about 1.5 s a call). Terminology from the ValueSets'
    // expansions, filtered in memory, as the README's JPA recipe configures it.
    EvaluationSettings evaluation = EvaluationSettings.getDefault();
    evaluation.setRetrieveSettings(
        new RetrieveSettings()
            .setSearchParameterMode(RetrieveSettings.SEARCH_FILTER_MODE.FILTER_IN_MEMORY)
            .setTerminologyParameterMode(RetrieveSettings.TERMINOLOGY_FILTER_MODE.FILTER_IN_MEMORY)
            .setProfileMode(RetrieveSettings.PROFILE_MODE.DECLARED));
    evaluation.setTerminologySettings(
        new TerminologySettings()
            .setValuesetPreExpansionMode(TerminologySettings.VALUESET_PRE_EXPANSION_MODE.REQUIRE)
            .setValuesetExpansionMode(
                TerminologySettings.VALUESET_EXPANSION_MODE.PERFORM_NAIVE_EXPANSION)
            .setValuesetMembershipMode(TerminologySettings.VALUESET_MEMBERSHIP_MODE.USE_EXPANSION)
            .setCodeLookupMode(TerminologySettings.CODE_LOOKUP_MODE.USE_CODESYSTEM_URL));
    settings = CrSettings.getDefault().withEvaluationSettings(evaluation);
  }

  /** One card as the client sees it: what both sides must agree on. */
  record Card(String indicator, String summary, String detail) {}

  /** A case's outcome on both sides. */
  record Row(String hook, Map<String, Card> service, Map<String, Card> peer) {}

  /**
   * Every case at its hook; an order-select case also at order-sign, where every draft counts and
   * the service shows only warning and critical cards.
   */
  @TestFactory
  Stream<DynamicTest> everyCaseGetsTheServicesCardsFromPlanDefinitionApply() {
    return ContentCase.all(content, FHIR).stream()
        .flatMap(
            c ->
                c.hook().equals("order-select")
                    ? Stream.of(
                        DynamicTest.dynamicTest(c.id(), () -> compare(c, c.hook())),
                        DynamicTest.dynamicTest(
                            c.id() + " at order-sign", () -> compare(c, "order-sign")))
                    : Stream.of(DynamicTest.dynamicTest(c.id(), () -> compare(c, c.hook()))));
  }

  static void compare(ContentCase c, String hook) {
    List<Resource> drafts = hook.equals("order-sign") ? c.allDrafts() : c.consideredDrafts();
    Map<String, Card> service = service(c, hook, drafts);
    Map<String, Card> peer = peer(c, hook, asSent(c));
    String id = c.id() + (hook.equals(c.hook()) ? "" : " at " + hook);
    rows.put(id, new Row(hook, service, peer));
    Gap gap = hook.equals(c.hook()) ? NOT_PORTABLE.get(c.id()) : null;
    if (gap == null) {
      assertThat(peer).as(id + " (" + hook + ")").isEqualTo(service);
      return;
    }
    assertThat(peer).as(id + " is listed as not portable: " + gap.reason).isNotEqualTo(service);
    switch (gap) {
      case SELECTIONS ->
          assertThat(service(c, hook, c.allDrafts())).as(id + ": " + gap.reason).isEqualTo(peer);
      case TIME_ZONE ->
          assertThat(peer(c, hook, c.record())).as(id + ": " + gap.reason).isEqualTo(service);
      case ICD10_WITHOUT_DOT ->
          assertThat(peer(c, hook, withIcd10Dots(asSent(c))))
              .as(id + ": " + gap.reason)
              .isEqualTo(service);
    }
  }

  /**
   * The case's data as the EHR sends it ({@code bundle.json}, date-times as written), without the
   * resources of the prefetch keys it could not provide.
   */
  static PatientRecord asSent(ContentCase c) {
    PatientRecord served = c.record();
    Set<String> kept = new java.util.HashSet<>();
    served.resources().forEach(r -> kept.add(r.fhirType() + "/" + r.getIdElement().getIdPart()));
    org.hl7.fhir.r4.model.Patient patient = null;
    List<Resource> resources = new ArrayList<>();
    for (var entry : c.bundle().getEntry()) {
      Resource r = entry.getResource().copy();
      if (r instanceof org.hl7.fhir.r4.model.Patient p) {
        patient = p;
      } else if (kept.contains(r.fhirType() + "/" + r.getIdElement().getIdPart())) {
        resources.add(r);
      }
    }
    return new PatientRecord(patient, resources, served.unavailable(), List.of());
  }

  /** The record with every ICD-10-CM code that lacks its dot written with it. */
  static PatientRecord withIcd10Dots(PatientRecord record) {
    for (Resource r : record.resources()) {
      if (r instanceof Condition condition) {
        for (var coding : condition.getCode().getCoding()) {
          if (ICD10CM.equals(coding.getSystem())
              && coding.getCode().matches("[A-Z]\\d[0-9A-Z]{2,}")) {
            coding.setCode(coding.getCode().substring(0, 3) + "." + coding.getCode().substring(3));
          }
        }
      }
    }
    return record;
  }

  /** The service's cards: its engine, its inputs, its templates (without the Why section). */
  static Map<String, Card> service(ContentCase c, String hook, List<Resource> drafts) {
    Map<String, Card> cards = new TreeMap<>();
    var compiler = CardTemplates.compiler(content);
    List<RuleResult> results =
        engine.evaluate(new EvaluationInput(c.record(), hook, now(c), drafts, c.allDrafts()));
    boolean anyRelevant =
        hook.equals("patient-view")
            || !engine.relevantDrafts(hook, c.patientId(), drafts, now(c)).isEmpty();
    for (RuleResult r : results) {
      String indicator = specIndicator(r.rule().action().getPriority());
      if (!r.applicable() || !anyRelevant) {
        continue;
      }
      if (hook.equals("order-sign") && indicator.equals("info")) {
        continue; // order-sign shows warning and critical cards only
      }
      Map<String, Object> values = CardTemplates.values(r);
      cards.put(
          r.rule().ruleId(),
          new Card(
              indicator,
              compiler.compile(r.rule().action().getTitle()).execute(values).strip(),
              compiler.compile(r.rule().action().getDescription()).execute(values).strip()));
    }
    return cards;
  }

  /** Clinical spec §3: routine → info, urgent → warning, stat or asap → critical. */
  static String specIndicator(PlanDefinition.RequestPriority priority) {
    return switch (priority) {
      case STAT, ASAP -> "critical";
      case URGENT -> "warning";
      default -> "info";
    };
  }

  /**
   * The peer's cards: {@code $apply} of every PlanDefinition whose trigger is the hook, over the
   * package and the case's data, each RequestGroup action mapped as HAPI's CdsCrServiceR4 does.
   */
  static Map<String, Card> peer(ContentCase c, String hook, PatientRecord record) {
    Bundle data = new Bundle().setType(Bundle.BundleType.COLLECTION);
    packageResources.forEach(r -> data.addEntry().setResource((Resource) r));
    data.addEntry().setResource(typed(record.patient()));
    record.resources().forEach(r -> data.addEntry().setResource(typed(r)));
    InMemoryFhirRepository repository = new InMemoryFhirRepository(FHIR, data);
    Parameters parameters = parameters(c);
    Map<String, Card> cards = new TreeMap<>();
    for (PlanDefinition plan : plans.values()) {
      boolean triggered =
          plan.getActionFirstRep().getTrigger().stream().anyMatch(t -> hook.equals(t.getName()));
      if (!triggered) {
        continue;
      }
      long start = System.nanoTime();
      var processor = new PlanDefinitionProcessor(repository, settings);
      IBaseParameters result =
          processor.applyR5(
              Eithers.forMiddle3(new IdType("PlanDefinition", plan.getIdElement().getIdPart())),
              List.of("Patient/" + c.patientId()),
              null,
              null,
              null,
              null,
              null,
              null,
              null,
              null,
              parameters,
              null,
              null,
              new FixedClock(repository, settings.getEvaluationSettings(), now(c)));
      peerNanos += System.nanoTime() - start;
      applies++;
      Bundle bundle = (Bundle) ((Parameters) result).getParameterFirstRep().getResource();
      if (!bundle.hasEntry()) {
        continue;
      }
      RequestGroup group = (RequestGroup) bundle.getEntryFirstRep().getResource();
      for (RequestGroup.RequestGroupActionComponent action : group.getAction()) {
        if (action == null) {
          continue; // the processor leaves null for an action whose condition is false
        }
        String ruleId = plan.getIdElement().getIdPart(); // HAPI: the service id
        cards.put(
            ruleId,
            new Card(
                hapiIndicator(action.getPriority().toCode()),
                action.getTitle(),
                action.getDescription()));
      }
    }
    return cards;
  }

  /** HAPI's CdsCrServiceR4.resolveIndicator: routine, urgent, stat; anything else fails. */
  static String hapiIndicator(String priority) {
    return switch (priority) {
      case "routine" -> "info";
      case "urgent" -> "warning";
      case "stat" -> "critical";
      default ->
          throw new IllegalArgumentException("HAPI-2435: Invalid priority code: " + priority);
    };
  }

  /**
   * The CQL parameters as HAPI's bridge encodes them: each draft a part {@code draftOrders} (a
   * single one marked as a list). A case whose EHR could not provide a prefetch key passes it as
   * the content's {@code Unavailable Data} parameter, the same way.
   */
  static Parameters parameters(ContentCase c) {
    Parameters parameters = new Parameters();
    c.allDrafts().forEach(d -> parameters.addParameter().setName("draftOrders").setResource(d));
    c.unavailable()
        .forEach(
            k -> parameters.addParameter().setName("Unavailable Data").setValue(new StringType(k)));
    for (String name : Set.of("draftOrders", "Unavailable Data")) {
      var named = parameters.getParameter().stream().filter(p -> p.getName().equals(name)).toList();
      if (named.size() == 1) {
        named
            .get(0)
            .addExtension(
                new Extension(
                    CPG_PARAMETER_DEFINITION, new ParameterDefinition().setMax("*").setName(name)));
      }
    }
    return parameters;
  }

  /** A copy whose id carries its type ({@code [Patient]} finds nothing otherwise). */
  static Resource typed(Resource r) {
    Resource copy = r.copy();
    copy.setId(new IdType(r.fhirType(), r.getIdElement().getIdPart()));
    return copy;
  }

  static ZonedDateTime now(ContentCase c) {
    return c.evaluationDate().atTime(12, 0).atZone(ZoneOffset.UTC);
  }

  /**
   * clinical-reasoning's library engine with the case's "now" (noon UTC of its evaluation date, as
   * the service's tests use) instead of the wall clock: the cases have fixed dates.
   */
  static final class FixedClock extends LibraryEngine {
    private final ZonedDateTime now;

    FixedClock(InMemoryFhirRepository repository, EvaluationSettings settings, ZonedDateTime now) {
      super(repository, settings);
      this.now = now;
    }

    @Override
    public EvaluationResults getEvaluationResult(
        List<VersionedIdentifier> ids,
        String patientId,
        IBaseParameters parameters,
        Map<String, Object> rawParameters,
        IBaseBundle additionalData,
        Set<String> expressions,
        CqlFhirParametersConverter converter,
        ZonedDateTime zonedDateTime,
        CqlEngine cqlEngine) {
      return super.getEvaluationResult(
          ids,
          patientId,
          parameters,
          rawParameters,
          additionalData,
          expressions,
          converter,
          now,
          cqlEngine);
    }
  }

  /** The result table: per hook and rule, the cases compared and those that agree. */
  @AfterAll
  static void report() {
    Map<String, int[]> byRule = new TreeMap<>();
    int same = 0;
    for (var e : rows.entrySet()) {
      Row row = e.getValue();
      if (row.peer().equals(row.service())) {
        same++;
      }
      Set<String> rules = new java.util.TreeSet<>(row.service().keySet());
      rules.addAll(row.peer().keySet());
      for (String rule : rules) {
        int[] counts = byRule.computeIfAbsent(row.hook() + " " + rule, k -> new int[2]);
        counts[0]++;
        if (java.util.Objects.equals(row.service().get(rule), row.peer().get(rule))) {
          counts[1]++;
        }
      }
    }
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "Portability: %d cases, %d with the same cards from PlanDefinition/$apply; %d applies,"
                + " mean %.1f ms%n",
            rows.size(), same, applies, applies == 0 ? 0.0 : peerNanos / 1e6 / applies));
    Map<String, String> lines = new LinkedHashMap<>();
    byRule.forEach(
        (k, v) -> lines.put(k, String.format("  %-45s cards %3d, same %3d%n", k, v[0], v[1])));
    lines.values().forEach(out::append);
    NOT_PORTABLE.forEach(
        (id, gap) ->
            out.append("  not portable: ").append(id).append(": ").append(gap.reason).append('\n'));
    System.out.print(out);
  }
}
