package org.backhippain.cds.service.hooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.fhir.PatientDataLoader;
import org.backhippain.cds.fhir.PatientRecord;
import org.backhippain.cds.service.discovery.CdsService;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.feedback.CardLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * Sends the package's fixed warm-up requests ({@code other/warm-up/*.json}: each hook, prefetch and
 * drafts as an EHR sends them, with cards to render) through the hook path at start-up, before
 * readiness turns green, so that the engine's first-use cost — class loading, JIT, FHIRHelpers — is
 * paid here, not by an EHR: validation, draft and prefetch parsing, evaluation, card rendering and
 * the feedback store (rolled back). Then the same requests without prefetch, read over HTTP through
 * the outbound client (its pool, the address and token checks, the byte counter, HAPI's client and
 * parser) from a {@link WarmUpFhirServer} on a loopback port of this process, allowed for these
 * calls only. The set is fixed (it does not grow with the test cases); it runs {@code
 * cds.warm-up.rounds} times through the hook path and {@code cds.warm-up.fetch-rounds} times
 * through the fetch path (whose evaluation and rendering the hook path has already warmed). Nothing
 * is stored, counted or logged per request.
 */
@Component
class HookWarmUp implements ApplicationRunner {
  private static final Logger log = LoggerFactory.getLogger(HookWarmUp.class);

  /** The package folder of the warm-up requests. */
  static final String FOLDER = "warm-up";

  /** One warm-up request: the service it is for, the date it is written for, the request. */
  record Request(String serviceId, ZonedDateTime now, CdsRequest request) {}

  private final HookRequests hookRequests;
  private final PatientDataLoader loader;
  private final RuleEngine engine;
  private final CardCandidates cards;
  private final ServiceCatalog services;
  private final CardLog feedback;
  private final List<Request> requests;
  private final int rounds;
  private final int fetchRounds;

  HookWarmUp(
      HookRequests hookRequests,
      PatientDataLoader loader,
      RuleEngine engine,
      CardCandidates cards,
      ContentPackage content,
      ServiceCatalog services,
      ObjectMapper json,
      CardLog feedback,
      @Value("${cds.warm-up.rounds:8}") int rounds,
      @Value("${cds.warm-up.fetch-rounds:2}") int fetchRounds) {
    this.hookRequests = hookRequests;
    this.loader = loader;
    this.engine = engine;
    this.cards = cards;
    this.services = services;
    this.feedback = feedback;
    this.requests = requests(content, json);
    this.rounds = rounds;
    this.fetchRounds = fetchRounds;
  }

  /** The package's warm-up requests, in file order. */
  static List<Request> requests(ContentPackage content, ObjectMapper json) {
    List<Request> out = new ArrayList<>();
    for (String path : content.paths(FOLDER)) {
      try {
        JsonNode file = json.readTree(content.file(path).orElseThrow());
        CdsRequest request = json.treeToValue(file.get("request"), CdsRequest.class);
        ZonedDateTime now =
            LocalDate.parse(file.path("evaluationDate").asText()).atStartOfDay(ZoneOffset.UTC);
        out.add(new Request("back-hip-pain-" + request.hook(), now, request));
      } catch (IOException | RuntimeException e) {
        throw new IllegalStateException("warm-up request " + path + " is not readable", e);
      }
    }
    return out;
  }

  @Override
  public void run(ApplicationArguments args) {
    long start = System.nanoTime();
    int done = 0;
    int cards = 0;
    int failed = 0;
    boolean feedbackStore = true;
    for (int round = 0; round < rounds; round++) {
      for (Request r : requests) {
        try {
          List<CardLog.Candidate> candidates =
              warmUp(r.serviceId(), r.request(), r.now(), FhirServers.none());
          if (feedbackStore && round == 0 && !candidates.isEmpty()) {
            feedbackStore = feedback.rehearse(r.serviceId(), candidates);
          }
          cards += candidates.size();
          done++;
        } catch (RuntimeException e) {
          // a warm-up miss only costs the first real request some time; never block start-up
          failed++;
        }
      }
    }
    log.info(
        "hook path warm: {} warm-up requests x {} rounds parsed, evaluated and rendered ({} cards,"
            + " {} failed; feedback store {}) in {} ms",
        requests.size(),
        rounds,
        cards,
        failed,
        feedbackStore ? "rehearsed, rolled back" : "unreachable, skipped",
        (System.nanoTime() - start) / 1_000_000);
    warmFetchPath();
  }

  /**
   * The hook path up to the feedback store: validation, draft parsing and the relevant-draft gate,
   * prefetch parsing (or fetching), evaluation and card rendering; nothing is logged, counted or
   * stored.
   *
   * @return the cards that would go to the feedback store
   */
  private List<CardLog.Candidate> warmUp(
      String serviceId, CdsRequest request, ZonedDateTime now, FhirServers allowed) {
    CdsService service = hookRequests.service(serviceId, request);
    DraftOrders drafts = hookRequests.drafts(service, request);
    String patientId = request.contextText("patientId");
    if (drafts.isOrderHook()) {
      engine.relevantDrafts(service.hook(), patientId, drafts.considered(), now);
    }
    PatientRecord record =
        loader.load(services.templates(serviceId), HookRequests.data(request, allowed));
    List<RuleResult> results =
        engine.evaluate(
            new EvaluationInput(record, service.hook(), now, drafts.considered(), drafts.all()));
    return cards.of(service, results, patientId, "http://localhost");
  }

  /** The same requests without prefetch, read from a loopback FHIR server allowed for them only. */
  private void warmFetchPath() {
    if (requests.isEmpty() || fetchRounds < 1) {
      return;
    }
    long start = System.nanoTime();
    int done = 0;
    int failed = 0;
    try (WarmUpFhirServer server = new WarmUpFhirServer(requests, services)) {
      FhirServers allowed = FhirServers.of(List.of(server.base()));
      for (int round = 0; round < fetchRounds; round++) {
        for (Request r : requests) {
          CdsRequest prefetched = r.request();
          CdsRequest fetching =
              new CdsRequest(
                  prefetched.hook(),
                  prefetched.hookInstance(),
                  server.base(),
                  new CdsRequest.FhirAuthorization(
                      "warm-up",
                      "Bearer",
                      60L,
                      "patient/*.read",
                      "cds-service",
                      prefetched.contextText("patientId")),
                  prefetched.context(),
                  null);
          try {
            warmUp(r.serviceId(), fetching, r.now(), allowed);
            done++;
          } catch (RuntimeException e) {
            failed++;
          }
        }
      }
    }
    log.info(
        "fetch path warm: {} warm-up requests read over loopback HTTP ({} failed) in {} ms",
        done,
        failed,
        (System.nanoTime() - start) / 1_000_000);
  }
}
