package org.backhippain.cds.service.hooks;

import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.Comparator;
import java.util.List;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.fhir.MemoryBudget;
import org.backhippain.cds.fhir.PatientDataLoader;
import org.backhippain.cds.fhir.PatientRecord;
import org.backhippain.cds.service.cards.Card;
import org.backhippain.cds.service.cards.CdsResponse;
import org.backhippain.cds.service.discovery.CdsService;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.feedback.CardLog;
import org.backhippain.cds.service.system.CdsException;
import org.backhippain.cds.service.system.CdsMetrics;
import org.backhippain.cds.service.system.CdsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Answers one hook call and accounts for it: read the request ({@link HookRequests}), load the
 * patient's data (prefetch, else the EHR's FHIR server), evaluate the rules the hook triggers,
 * render the applicable cards ({@link CardCandidates}), apply snoozes and log them (feedback),
 * order them; the stage timings go to the metrics and one log line.
 */
@Service
class HookService {
  private static final Logger log = LoggerFactory.getLogger(HookService.class);

  private final ServiceCatalog services;
  private final HookRequests requests;
  private final PatientDataLoader loader;
  private final RuleEngine engine;
  private final CardCandidates cards;
  private final Clock clock;
  private final CdsProperties properties;
  private final CdsMetrics metrics;
  private final CardLog feedback;
  private final MemoryBudget memory;

  HookService(
      ServiceCatalog services,
      HookRequests requests,
      PatientDataLoader loader,
      RuleEngine engine,
      CardCandidates cards,
      Clock clock,
      CdsProperties properties,
      CdsMetrics metrics,
      CardLog feedback,
      MemoryBudget memory) {
    this.services = services;
    this.requests = requests;
    this.loader = loader;
    this.engine = engine;
    this.cards = cards;
    this.clock = clock;
    this.properties = properties;
    this.metrics = metrics;
    this.feedback = feedback;
    this.memory = memory;
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
    CdsService service = requests.service(serviceId, request);
    if (engine.catalog().triggeredBy(service.hook()).isEmpty()) {
      return CdsResponse.empty();
    }
    String patientId = request.contextText("patientId");
    ZonedDateTime now = ZonedDateTime.now(clock).withZoneSameInstant(properties.timeZone());
    DraftOrders drafts = requests.drafts(service, request);
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
              .load(services.templates(serviceId), HookRequests.data(request, allowed), fetched)
              .withUnusable(drafts.unusable());
      metrics.fetches(record);
      t1 = System.nanoTime();
      results =
          engine.evaluate(
              new EvaluationInput(record, service.hook(), now, drafts.considered(), drafts.all()));
      t2 = System.nanoTime();
      candidates = cards.of(service, results, patientId, stripSlash(baseUrl));
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

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
