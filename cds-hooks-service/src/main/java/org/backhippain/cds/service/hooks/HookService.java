package org.backhippain.cds.service.hooks;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.fhir.AccessToken;
import org.backhippain.cds.fhir.DataRequest;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.fhir.MemoryBudget;
import org.backhippain.cds.fhir.PatientDataLoader;
import org.backhippain.cds.fhir.PatientRecord;
import org.backhippain.cds.fhir.PrefetchValue;
import org.backhippain.cds.fhir.UsableValues;
import org.backhippain.cds.service.cards.Card;
import org.backhippain.cds.service.cards.CardFactory;
import org.backhippain.cds.service.cards.CdsResponse;
import org.backhippain.cds.service.cards.Indicator;
import org.backhippain.cds.service.discovery.CdsService;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.feedback.CardLog;
import org.backhippain.cds.service.feedback.FactHashes;
import org.backhippain.cds.service.system.CdsException;
import org.backhippain.cds.service.system.CdsMetrics;
import org.backhippain.cds.service.system.CdsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Answers one hook call: validate, load the patient's data (prefetch, else the EHR's FHIR server),
 * evaluate the rules the hook triggers, render the applicable cards, order them.
 */
@Service
class HookService {
  private static final Logger log = LoggerFactory.getLogger(HookService.class);
  private static final List<String> ORDER_HOOKS = List.of("order-select", "order-sign");

  private final ServiceCatalog services;
  private final PatientDataLoader loader;
  private final RuleEngine engine;
  private final CardFactory cards;
  private final Clock clock;
  private final CdsProperties properties;
  private final FhirContext fhir;
  private final CdsMetrics metrics;
  private final CardLog feedback;
  private final UsableValues values;
  private final MemoryBudget memory;

  HookService(
      ServiceCatalog services,
      PatientDataLoader loader,
      RuleEngine engine,
      CardFactory cards,
      Clock clock,
      CdsProperties properties,
      FhirContext fhir,
      CdsMetrics metrics,
      CardLog feedback,
      MemoryBudget memory) {
    this.memory = memory;
    this.services = services;
    this.loader = loader;
    this.engine = engine;
    this.cards = cards;
    this.clock = clock;
    this.properties = properties;
    this.fhir = fhir;
    this.metrics = metrics;
    this.feedback = feedback;
    this.values = new UsableValues(fhir, properties.timeZone());
  }

  /**
   * @param baseUrl the public base URL links in the cards start with
   * @param allowed the FHIR servers this caller's {@code fhirServer} may name
   */
  CdsResponse answer(String serviceId, CdsRequest request, String baseUrl, FhirServers allowed) {
    long start = System.nanoTime();
    String outcome = "error";
    try {
      CdsResponse response = evaluate(serviceId, request, baseUrl, allowed, start);
      outcome = "ok";
      return response;
    } catch (CdsException e) {
      outcome = e.error();
      throw e;
    } catch (org.backhippain.cds.fhir.RequiredDataUnavailableException e) {
      outcome = "prefetch_unavailable";
      throw e;
    } finally {
      metrics.hook(
          services.service(serviceId).isPresent() ? serviceId : "unknown",
          outcome,
          System.nanoTime() - start);
    }
  }

  private CdsResponse evaluate(
      String serviceId, CdsRequest request, String baseUrl, FhirServers allowed, long start) {
    CdsService service = validated(serviceId, request);
    if (engine.catalog().triggeredBy(service.hook()).isEmpty()) {
      return CdsResponse.empty();
    }
    String patientId = request.contextText("patientId");
    ZonedDateTime now = ZonedDateTime.now(clock).withZoneSameInstant(properties.timeZone());
    DraftOrders drafts =
        DraftOrders.of(service.hook(), request.context(), values, properties.maxBundleEntries());
    if (drafts.isOrderHook()
        && engine.relevantDrafts(service.hook(), patientId, drafts.considered(), now).isEmpty()) {
      log.info(
          "hook {} service={} no relevant draft among {} in {} ms",
          request.hookInstance(),
          serviceId,
          drafts.considered().size(),
          (System.nanoTime() - start) / 1_000_000);
      return CdsResponse.empty();
    }
    long t0 = System.nanoTime();
    long t1;
    long t2;
    List<RuleResult> results;
    List<CardLog.Candidate> candidates;
    // Fetched FHIR bytes hold their share of the memory budget until the cards are built.
    try (MemoryBudget.Reservation fetched = memory.reserve()) {
      PatientRecord record =
          loader
              .load(services.templates(serviceId), dataRequest(request, allowed), fetched)
              .withUnusable(drafts.unusable());
      metrics.fetches(record);
      t1 = System.nanoTime();
      results =
          engine.evaluate(
              new EvaluationInput(record, service.hook(), now, drafts.considered(), drafts.all()));
      t2 = System.nanoTime();
      candidates = candidates(service, results, patientId, stripSlash(baseUrl));
    }
    long t3 = System.nanoTime();
    List<Card> answer =
        feedback.show(serviceId, patientId, candidates).stream()
            .sorted(Comparator.comparing(Card::indicator))
            .toList();
    long t4 = System.nanoTime();
    answer.forEach(card -> metrics.card(serviceId, card.ruleId()));
    metrics.stages(serviceId, t0 - start, t1 - t0, t2 - t1, t3 - t2, t4 - t3);
    log.info(
        "hook {} service={} cards={} rules={} in {} ms (validate {}, data {}, cql {}, cards {},"
            + " feedback {})",
        request.hookInstance(),
        serviceId,
        answer.stream().map(Card::ruleId).toList(),
        results.size(),
        (System.nanoTime() - start) / 1_000_000,
        (t0 - start) / 1_000_000,
        (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000,
        (t3 - t2) / 1_000_000,
        (t4 - t3) / 1_000_000);
    return new CdsResponse(answer);
  }

  private List<CardLog.Candidate> candidates(
      CdsService service, List<RuleResult> results, String patientId, String baseUrl) {
    return results.stream()
        .filter(RuleResult::applicable)
        .map(r -> new CardLog.Candidate(cards.card(r, patientId, baseUrl), FactHashes.of(r.card())))
        .filter(c -> !"order-sign".equals(service.hook()) || c.card().indicator() != Indicator.INFO)
        .toList();
  }

  /**
   * Start-up warm-up of the hook path up to the feedback store: validation, draft parsing and the
   * relevant-draft gate, prefetch parsing, evaluation and card rendering; nothing is logged,
   * counted or stored.
   *
   * @return the cards that would go to the feedback store
   */
  List<CardLog.Candidate> warmUp(
      String serviceId, CdsRequest request, ZonedDateTime now, FhirServers allowed) {
    CdsService service = validated(serviceId, request);
    DraftOrders drafts =
        DraftOrders.of(service.hook(), request.context(), values, properties.maxBundleEntries());
    if (drafts.isOrderHook()) {
      engine.relevantDrafts(
          service.hook(), request.contextText("patientId"), drafts.considered(), now);
    }
    PatientRecord record =
        loader.load(services.templates(serviceId), dataRequest(request, allowed));
    List<RuleResult> results =
        engine.evaluate(
            new EvaluationInput(record, service.hook(), now, drafts.considered(), drafts.all()));
    return candidates(service, results, request.contextText("patientId"), "http://localhost");
  }

  /**
   * The benchmark floor: everything a hook does before evaluation (validation, draft parsing,
   * prefetch parsing into typed resources), then an empty answer.
   */
  CdsResponse parseOnly(String serviceId, CdsRequest request) {
    CdsService service = validated(serviceId, request);
    DraftOrders.of(service.hook(), request.context(), values, properties.maxBundleEntries());
    loader.load(services.templates(serviceId), dataRequest(request, FhirServers.none()));
    return CdsResponse.empty();
  }

  /**
   * The service for {@code serviceId} (404 when unknown) once the request is valid for it (400).
   */
  private CdsService validated(String serviceId, CdsRequest request) {
    CdsService service =
        services
            .service(serviceId)
            .orElseThrow(() -> CdsException.notFound("no CDS service with id '" + serviceId + "'"));
    validate(service, request);
    return service;
  }

  /** A FHIR id (R4 {@code id} datatype): {@code context.patientId} names a Patient by it. */
  private static final java.util.regex.Pattern FHIR_ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  /** Longer than any UUID spelling; the hook instance is logged with every hook. */
  static final int MAX_HOOK_INSTANCE = 128;

  private static void validate(CdsService service, CdsRequest request) {
    if (request.hook() == null || request.hook().isBlank()) {
      throw CdsException.badField("hook", "'hook' is required");
    }
    if (request.hookInstance() == null || request.hookInstance().isBlank()) {
      throw CdsException.badField("hookInstance", "'hookInstance' is required");
    }
    if (request.hookInstance().length() > MAX_HOOK_INSTANCE) {
      throw CdsException.badField(
          "hookInstance",
          "'hookInstance' must be at most " + MAX_HOOK_INSTANCE + " characters (a UUID)");
    }
    if (!service.hook().equals(request.hook())) {
      throw CdsException.badField(
          "hook",
          "service '"
              + service.id()
              + "' answers hook '"
              + service.hook()
              + "', not '"
              + shown(request.hook())
              + "'");
    }
    if (request.context() == null || !request.context().isObject()) {
      throw CdsException.badField("context", "'context' is required and must be an object");
    }
    JsonNode patientId = request.context().get("patientId");
    if (patientId == null || !patientId.isTextual() || patientId.asText().isBlank()) {
      throw CdsException.badField("context.patientId", "'context.patientId' is required");
    }
    if (!FHIR_ID.matcher(patientId.asText()).matches()) {
      throw CdsException.badField(
          "context.patientId",
          "'context.patientId' must be a FHIR id (letters, digits, '-' and '.', at most 64)");
    }
    if (ORDER_HOOKS.contains(service.hook())) {
      JsonNode drafts = request.context().get("draftOrders");
      if (drafts == null
          || !drafts.isObject()
          || !"Bundle".equals(drafts.path("resourceType").asText())) {
        throw CdsException.badField(
            "context.draftOrders", "'context.draftOrders' must be a FHIR Bundle");
      }
      JsonNode selections = request.context().get("selections");
      if (selections != null && !selections.isArray()) {
        throw CdsException.badField(
            "context.selections", "'context.selections' must be an array of references");
      }
    }
  }

  /** A caller's value quoted in an error message: at most 64 characters. */
  private static String shown(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }

  private static DataRequest dataRequest(CdsRequest request, FhirServers allowed) {
    Map<String, String> tokens = new HashMap<>();
    request
        .context()
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isValueNode()) {
                tokens.put("context." + e.getKey(), e.getValue().asText());
              }
            });
    String user = request.contextText("userId");
    if (user != null && user.contains("/")) {
      String type = user.substring(0, user.indexOf('/'));
      tokens.put("user" + type + "Id", user.substring(user.indexOf('/') + 1));
    }
    Map<String, PrefetchValue> prefetch = new LinkedHashMap<>();
    if (request.prefetch() != null) {
      request
          .prefetch()
          .forEach(
              (key, value) ->
                  prefetch.put(
                      key,
                      value == null || value.isNull()
                          ? PrefetchValue.noData()
                          : PrefetchValue.tree(value)));
    }
    var auth = request.fhirAuthorization();
    AccessToken token =
        auth == null
            ? null
            : AccessToken.of(auth.accessToken(), auth.expiresIn(), auth.scope(), auth.patient());
    return new DataRequest(request.fhirServer(), token, allowed, tokens, prefetch);
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
