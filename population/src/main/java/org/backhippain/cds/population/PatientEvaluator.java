package org.backhippain.cds.population;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.LenientErrorHandler;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.Period;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.util.LongAccumulator;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.ContentTerminology;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.fhir.FactDate;
import org.backhippain.cds.fhir.FactDates;
import org.backhippain.cds.fhir.FhirParsing;
import org.backhippain.cds.fhir.PatientRecord;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Medication;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;

/**
 * Evaluates one patient's group with the service's own content package and rule engine: each
 * resource parsed by HAPI once (narrative dropped, date-times put into the service's zone, as the
 * service reads a prefetch), the record taken as of the run's date ({@link AsOf}), the patient-view
 * rules evaluated on it, and each imaging order evaluated at order-select as of its own date with
 * the order as the draft ({@link ImagingMeasure}).
 *
 * <p>One instance per executor JVM and settings: the compiled content is loaded once per executor,
 * never per patient. Thread-safe.
 */
final class PatientEvaluator {
  static final String PATIENT_VIEW = "patient-view";
  static final String ORDER_SELECT = "order-select";
  static final String IMAGING_ORDERS = ContentPackage.CANONICAL_BASE + "/ValueSet/imaging-orders";

  private static final Map<EvaluationSettings, PatientEvaluator> BY_SETTINGS =
      new ConcurrentHashMap<>();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String URN_UUID = "urn:uuid:";

  private final EvaluationSettings settings;
  private final FhirContext fhir;
  private final RuleEngine engine;
  private final ContentTerminology terminology;
  private final List<String> valueSets;
  private final FactDates dates;
  private final Set<String> ruleTypes;
  private final String imagingRule;
  private final Map<String, Boolean> matched = new ConcurrentHashMap<>();

  private PatientEvaluator(EvaluationSettings settings) {
    this.settings = settings;
    this.fhir = Content.FHIR;
    ContentPackage content = Content.get();
    this.engine = RuleEngine.start(content, fhir, settings.siteParameters());
    this.terminology = new ContentTerminology(content);
    this.valueSets = content.valueSets().stream().map(v -> v.getUrl()).toList();
    this.dates = new FactDates(fhir, settings.zoneId());
    this.ruleTypes = ContentScope.of(content, fhir).ruleTypes();
    this.imagingRule = ImagingMeasure.ruleId(engine.catalog());
    terminology.contains(IMAGING_ORDERS, "http://loinc.org", "24972-2"); // fails fast if renamed
  }

  /** The executor's evaluator for these settings (created, and the content loaded, once). */
  static PatientEvaluator of(EvaluationSettings settings) {
    return BY_SETTINGS.computeIfAbsent(settings, PatientEvaluator::new);
  }

  RuleEngine engine() {
    return engine;
  }

  /** One group of the export: a patient's resources, or an organisation. */
  PatientOutcome evaluate(
      String key, Iterator<ExportLine> lines, InputLog log, LongAccumulator processed) {
    List<ExportLine> group = new ArrayList<>();
    lines.forEachRemaining(group::add);
    if (key.startsWith(LineRouter.ORGANIZATION_KEY)) {
      return organization(key.substring(LineRouter.ORGANIZATION_KEY.length()), group, log);
    }
    ExportLine patientLine =
        group.stream().filter(l -> l.getType().equals("Patient")).findFirst().orElse(null);
    if (patientLine == null) {
      PatientOutcome unknown = PatientOutcome.of(PatientOutcome.UNKNOWN_PATIENT, null);
      group.forEach(l -> unknown.getSkippedTypes().add(l.getType()));
      return unknown;
    }
    processed.add(1);
    Resource parsed = parse(patientLine, log);
    if (!(parsed instanceof Patient patient)) {
      return notEvaluated(key, "Patient not valid FHIR R4");
    }
    patient.setId(key);
    return evaluatePatient(patient, group, log);
  }

  /** Evaluates a patient whose resources are at hand (the plain-loop benchmark calls it too). */
  PatientOutcome evaluatePatient(Patient patient, List<ExportLine> group, InputLog log) {
    String id = patient.getIdElement().getIdPart();
    LocalDate asOf = settings.asOf();
    Optional<String> notEvaluated = alive(patient, asOf);
    if (notEvaluated.isPresent()) {
      return notEvaluated(id, notEvaluated.get());
    }
    List<Resource> all = new ArrayList<>();
    List<Resource> withUrns = new ArrayList<>();
    List<ExportLine> encounters = new ArrayList<>();
    for (ExportLine line : group) {
      String type = line.getType();
      if (type.equals("Encounter")) {
        encounters.add(line);
      } else if (ruleTypes.contains(type) && !type.equals("Patient")) {
        Resource resource = parse(line, log);
        if (resource != null) {
          all.add(resource);
          if (line.getJson().contains(URN_UUID)) {
            withUrns.add(resource);
          }
        }
      }
    }
    resolveUrnReferences(patient, all, withUrns);
    List<Resource> record = AsOf.of(all, asOf);
    RuleEngine.Evaluation view =
        engine.evaluate(
            new EvaluationInput(
                new PatientRecord(patient, record, settings.unavailable(), List.of()),
                PATIENT_VIEW,
                settings.noonOf(asOf)),
            ImagingMeasure.PATIENT_DEFINES);

    PatientOutcome outcome = PatientOutcome.of(PatientOutcome.PATIENT, id);
    outcome.setInScope(
        view.isTrue(ImagingMeasure.key(ImagingMeasure.COMMON, ImagingMeasure.IN_SCOPE)));
    hits(view, PATIENT_VIEW, asOf, outcome);
    for (Resource resource : record) {
      if (resource instanceof ServiceRequest order && imagingCandidate(order)) {
        order(patient, all, order, outcome);
      }
    }
    outcome.setAgeBand(ageBand(patient, asOf));
    outcome.setSex(patient.hasGender() ? patient.getGender().toCode() : "unknown");
    outcome.setOrganization(organization(patient, encounters, log));
    outcome.setUnmatchedCodes(unmatchedCodes(record));
    return outcome;
  }

  /**
   * References by {@code urn:uuid:<id>} (Synthea's Bundles) become {@code Type/<id>} when the
   * patient's group holds a resource with that id, as a FHIR server storing the Bundle rewrites
   * them: the rules match references ({@code medicationReference}, {@code reasonReference}) by type
   * and id.
   */
  private void resolveUrnReferences(
      Patient patient, List<Resource> resources, List<Resource> withUrns) {
    if (withUrns.isEmpty()) {
      return;
    }
    Map<String, String> byId = new HashMap<>();
    byId.put(patient.getIdElement().getIdPart(), "Patient");
    for (Resource r : resources) {
      byId.putIfAbsent(r.getIdElement().getIdPart(), r.fhirType());
    }
    for (Resource r : withUrns) {
      for (Reference reference :
          fhir.newTerser().getAllPopulatedChildElementsOfType(r, Reference.class)) {
        String ref = reference.getReference();
        if (ref != null && ref.startsWith(URN_UUID)) {
          String id = ref.substring(URN_UUID.length());
          String type = byId.get(id);
          if (type != null) {
            reference.setReference(type + "/" + id);
          }
        }
      }
    }
  }

  /** One imaging order, evaluated as of its own date with itself as the draft. */
  private void order(
      Patient patient, List<Resource> all, ServiceRequest order, PatientOutcome outcome) {
    String reference = "ServiceRequest/" + order.getIdElement().getIdPart();
    Optional<LocalDate> date = FactDate.of(order);
    if (date.isEmpty()) {
      outcome
          .getOrders()
          .add(new PatientOutcome.OrderOutcome(reference, null, ImagingMeasure.UNDATED, List.of()));
      return;
    }
    List<Resource> record = new ArrayList<>(AsOf.of(all, date.get()));
    record.removeIf(r -> r == order);
    ServiceRequest draft = order.copy();
    draft.setStatus(ServiceRequest.ServiceRequestStatus.DRAFT);
    RuleEngine.Evaluation evaluation =
        engine.evaluate(
            new EvaluationInput(
                new PatientRecord(patient, record, settings.unavailable(), List.of()),
                ORDER_SELECT,
                settings.noonOf(date.get()),
                List.of(draft),
                List.of(draft)),
            ImagingMeasure.ORDER_DEFINES);
    Boolean imaging = ImagingMeasure.isImaging(evaluation);
    if (Boolean.FALSE.equals(imaging)) {
      return;
    }
    boolean fired =
        evaluation.results().stream()
            .anyMatch(r -> r.applicable() && r.rule().ruleId().equals(imagingRule));
    String result =
        imaging == null ? ImagingMeasure.ERROR : ImagingMeasure.outcome(evaluation, fired);
    List<String> flags = new ArrayList<>();
    if (result.equals(ImagingMeasure.RED_FLAG)) {
      evaluation.results().stream()
          .filter(r -> r.applicable() && !r.rule().ruleId().equals(imagingRule))
          .forEach(r -> flags.add(r.rule().ruleId()));
    }
    outcome
        .getOrders()
        .add(new PatientOutcome.OrderOutcome(reference, date.get().toString(), result, flags));
    if (fired) {
      evaluation.results().stream()
          .filter(r -> r.applicable() && r.rule().ruleId().equals(imagingRule))
          .forEach(
              r ->
                  outcome
                      .getHits()
                      .add(
                          new PatientOutcome.RuleHit(
                              imagingRule, ORDER_SELECT, date.get().toString(), facts(r))));
    }
  }

  private void hits(
      RuleEngine.Evaluation evaluation, String hook, LocalDate date, PatientOutcome outcome) {
    for (RuleResult result : evaluation.results()) {
      if (result.error() != null) {
        outcome.setRuleErrors(outcome.getRuleErrors() + 1);
      } else if (result.applicable()) {
        outcome
            .getHits()
            .add(
                new PatientOutcome.RuleHit(
                    result.rule().ruleId(), hook, date.toString(), facts(result)));
      }
    }
  }

  /** The facts that made a card fire, as its Why lists them, and the episode. */
  static String facts(RuleResult result) {
    List<String> parts = new ArrayList<>();
    if (result.card().get("facts") instanceof List<?> facts) {
      for (Object fact : facts) {
        if (fact instanceof Map<?, ?> f) {
          StringBuilder text = new StringBuilder();
          append(text, f.get("ref") != null ? f.get("ref") : f.get("type"));
          append(text, f.get("display"));
          append(text, f.get("date"));
          append(text, f.get("detail"));
          parts.add(text.toString());
        }
      }
    }
    Object durationClass = result.card().get("durationClass");
    if (durationClass != null) {
      parts.add("episode " + durationClass + ", " + result.card().get("durationDays") + " days");
    }
    return String.join("; ", parts);
  }

  private static void append(StringBuilder text, Object value) {
    if (value != null && !String.valueOf(value).isBlank()) {
      if (!text.isEmpty()) {
        text.append(' ');
      }
      text.append(value);
    }
  }

  private boolean imagingCandidate(ServiceRequest order) {
    if (order.getStatus() == ServiceRequest.ServiceRequestStatus.ENTEREDINERROR) {
      return false;
    }
    for (Coding coding : order.getCode().getCoding()) {
      if (terminology.contains(IMAGING_ORDERS, coding.getSystem(), coding.getCode())) {
        return true;
      }
    }
    return false;
  }

  /** Why a patient is not evaluated on the date (not yet born, or died by then), if so. */
  private static Optional<String> alive(Patient patient, LocalDate asOf) {
    if (patient.hasBirthDateElement()
        && patient.getBirthDateElement().getValue() != null
        && FactDate.day(patient.getBirthDateElement()).isAfter(asOf)) {
      return Optional.of("born after the date");
    }
    if (patient.getDeceased() instanceof DateTimeType died && died.getValue() != null) {
      return FactDate.day(died).isAfter(asOf)
          ? Optional.empty()
          : Optional.of("deceased by the date");
    }
    if (patient.hasDeceasedBooleanType() && patient.getDeceasedBooleanType().booleanValue()) {
      return Optional.of("deceased (no date)");
    }
    return Optional.empty();
  }

  static String ageBand(Patient patient, LocalDate asOf) {
    if (!patient.hasBirthDateElement() || patient.getBirthDateElement().getValue() == null) {
      return "unknown";
    }
    int age = Period.between(FactDate.day(patient.getBirthDateElement()), asOf).getYears();
    if (age < 18) {
      return "0-17";
    }
    if (age < 30) {
      return "18-29";
    }
    if (age >= 80) {
      return "80+";
    }
    int low = age / 10 * 10;
    return low + "-" + (low + 9);
  }

  /** Patient.managingOrganization, else the serviceProvider of the latest Encounter by the date. */
  private String organization(Patient patient, List<ExportLine> encounters, InputLog log) {
    if (patient.hasManagingOrganization()) {
      return organizationKey(patient.getManagingOrganization());
    }
    Encounter latest = null;
    LocalDate latestDate = null;
    for (ExportLine line : encounters) {
      if (parse(line, log) instanceof Encounter encounter
          && encounter.getPeriod().hasStart()
          && encounter.hasServiceProvider()) {
        LocalDate start = FactDate.day(encounter.getPeriod().getStartElement());
        if (!start.isAfter(settings.asOf()) && (latestDate == null || start.isAfter(latestDate))) {
          latest = encounter;
          latestDate = start;
        }
      }
    }
    return latest == null ? null : organizationKey(latest.getServiceProvider());
  }

  /**
   * An organisation's key from a reference: its id ({@code Organization/<id>}, {@code
   * urn:uuid:<id>}), or the identifier value of a conditional reference ({@code
   * Organization?identifier=system|value}, as Synthea's bulk export writes).
   */
  static String organizationKey(Reference reference) {
    String ref = reference.getReference();
    if (ref == null || ref.isBlank()) {
      return null;
    }
    int identifier = ref.indexOf("identifier=");
    if (ref.startsWith("Organization?") && identifier > 0) {
      String value = URLDecoder.decode(ref.substring(identifier + 11), StandardCharsets.UTF_8);
      int amp = value.indexOf('&');
      value = amp >= 0 ? value.substring(0, amp) : value;
      return value.substring(value.lastIndexOf('|') + 1);
    }
    String id = LineRouter.id(ref, "Organization");
    return id != null ? id : ref;
  }

  private PatientOutcome organization(String id, List<ExportLine> group, InputLog log) {
    PatientOutcome outcome = PatientOutcome.of(PatientOutcome.ORGANIZATION, id);
    for (ExportLine line : group) {
      if (parse(line, log) instanceof Organization organization) {
        outcome.setName(organization.getName());
        for (Identifier identifier : organization.getIdentifier()) {
          if (identifier.hasValue()) {
            outcome.getAliases().add(identifier.getValue());
          }
        }
        break;
      }
    }
    return outcome;
  }

  /**
   * {@code system|code|display} of each resource whose code no value set of the content matched (a
   * Condition's, Procedure's or ServiceRequest's code, a request's medication): a terminology
   * coverage view. Observations are not listed: the prefetch query already chose them by code.
   */
  private List<String> unmatchedCodes(List<Resource> record) {
    List<String> out = new ArrayList<>();
    for (Resource resource : record) {
      CodeableConcept concept = null;
      if (resource instanceof Condition c) {
        concept = c.getCode();
      } else if (resource instanceof Procedure p) {
        concept = p.getCode();
      } else if (resource instanceof ServiceRequest s) {
        concept = s.getCode();
      } else if (resource instanceof MedicationRequest m) {
        concept = medication(m, record);
      }
      if (concept == null) {
        continue;
      }
      Coding first = null;
      boolean any = false;
      for (Coding coding : concept.getCoding()) {
        if (coding.hasCode() && coding.hasSystem()) {
          first = first == null ? coding : first;
          any |= matched(coding.getSystem(), coding.getCode());
        }
      }
      if (first != null && !any) {
        out.add(
            first.getSystem()
                + "|"
                + first.getCode()
                + "|"
                + (first.hasDisplay() ? first.getDisplay() : concept.getText()));
      }
    }
    return out;
  }

  private static CodeableConcept medication(MedicationRequest request, List<Resource> record) {
    if (request.hasMedicationCodeableConcept()) {
      return request.getMedicationCodeableConcept();
    }
    if (!request.hasMedicationReference()) {
      return null;
    }
    String ref = request.getMedicationReference().getReference();
    if (ref == null) {
      return null;
    }
    if (ref.startsWith("#")) {
      for (Resource contained : request.getContained()) {
        if (contained instanceof Medication m
            && ref.equals("#" + contained.getIdElement().getIdPart())) {
          return m.getCode();
        }
      }
      return null;
    }
    String id = LineRouter.id(ref, "Medication");
    for (Resource resource : record) {
      if (resource instanceof Medication m && m.getIdElement().getIdPart().equals(id)) {
        return m.getCode();
      }
    }
    return null;
  }

  private boolean matched(String system, String code) {
    return matched.computeIfAbsent(
        system + "|" + code,
        k -> valueSets.stream().anyMatch(url -> terminology.contains(url, system, code)));
  }

  /**
   * HAPI parses one resource as the service parses a prefetch (narrative dropped, lenient about
   * unknown elements, never logging), and its date-times are put into the service's zone. A
   * resource HAPI cannot read is reported by file and position and left out.
   */
  private Resource parse(ExportLine line, InputLog log) {
    try {
      if (!(JSON.readTree(line.getJson()) instanceof ObjectNode object)) {
        throw new IllegalArgumentException("not an object");
      }
      object.remove("text");
      IBaseResource resource =
          FhirParsing.parse(
              fhir.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false)), object);
      return dates.normalize((Resource) resource);
    } catch (Exception e) {
      // HAPI and Jackson signal bad input with several exception types; the message may quote the
      // resource, so only the position is kept.
      log.add(InputLog.Event.problem(InputLog.NOT_FHIR, line.getFile(), line.getPosition()));
      return null;
    }
  }

  private static PatientOutcome notEvaluated(String id, String why) {
    PatientOutcome outcome = PatientOutcome.of(PatientOutcome.NOT_EVALUATED, id);
    outcome.setName(why);
    return outcome;
  }

  /** The content package and FHIR context, loaded once per JVM. */
  static final class Content {
    static final FhirContext FHIR = FhirParsing.context();
    private static volatile ContentPackage content;

    private Content() {}

    static ContentPackage get() {
      if (content == null) {
        synchronized (Content.class) {
          if (content == null) {
            content = ContentPackage.load(FHIR);
          }
        }
      }
      return content;
    }
  }
}
