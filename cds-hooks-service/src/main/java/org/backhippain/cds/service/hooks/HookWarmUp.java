package org.backhippain.cds.service.hooks;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.fhir.PrefetchTemplate;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.feedback.FeedbackService;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/**
 * Sends every content case through the hook path once at start-up, before readiness turns green (so
 * the engine's first-use cost — class loading, JIT, FHIRHelpers — is paid here, not by an EHR): the
 * request as an EHR would send it (JSON tree, prefetch filled from the case), then validation,
 * prefetch parsing, evaluation, card rendering and the feedback store (rolled back) — so that the
 * first EHR request does not pay for class loading and interpreted code. Then the fetch path the
 * same way: cases without prefetch, read over HTTP through the outbound client (its pool, the
 * address and token checks, the byte counter, HAPI's client and parser) from a {@link
 * WarmUpFhirServer} on a loopback port of this process, allowed for these calls only. Nothing is
 * stored, counted or logged per case.
 */
@Component
class HookWarmUp implements ApplicationRunner {
  private static final Logger log = LoggerFactory.getLogger(HookWarmUp.class);

  /** Fetch-mode requests at start-up: enough for the client, pool and parser to be compiled. */
  private static final int FETCH_CASES = 60;

  private final HookService hooks;
  private final RuleEngine engine;
  private final ServiceCatalog services;
  private final FhirContext fhir;
  private final ObjectMapper json;
  private final FeedbackService feedback;

  HookWarmUp(
      HookService hooks,
      RuleEngine engine,
      ServiceCatalog services,
      FhirContext fhir,
      ObjectMapper json,
      FeedbackService feedback) {
    this.feedback = feedback;
    this.hooks = hooks;
    this.engine = engine;
    this.services = services;
    this.fhir = fhir;
    this.json = json;
  }

  @Override
  public void run(ApplicationArguments args) {
    long start = System.nanoTime();
    int requests = 0;
    int cards = 0;
    int failed = 0;
    boolean feedbackStore = true;
    for (ContentCase c : ContentCase.all(engine.content(), fhir)) {
      String serviceId = "back-hip-pain-" + c.hook();
      if (services.service(serviceId).isEmpty()) {
        continue;
      }
      try {
        List<FeedbackService.Candidate> candidates =
            hooks.warmUp(
                serviceId,
                request(c, serviceId),
                c.evaluationDate().atStartOfDay(java.time.ZoneOffset.UTC),
                FhirServers.none());
        if (feedbackStore && !candidates.isEmpty()) {
          feedbackStore = feedback.rehearse(serviceId, candidates);
        }
        cards += candidates.size();
        requests++;
      } catch (RuntimeException e) {
        // a warm-up miss only costs the first real request some time; never block start-up
        failed++;
      }
    }
    log.info(
        "hook path warm: {} content-case requests parsed, evaluated and rendered ({} cards, {}"
            + " failed; feedback store {}) in {} ms",
        requests,
        cards,
        failed,
        feedbackStore ? "rehearsed, rolled back" : "unreachable, skipped",
        (System.nanoTime() - start) / 1_000_000);
    warmFetchPath();
  }

  /** Cases without prefetch, read from a loopback FHIR server allowed for these calls only. */
  private void warmFetchPath() {
    long start = System.nanoTime();
    List<ContentCase> cases =
        ContentCase.all(engine.content(), fhir).stream()
            .filter(c -> services.service("back-hip-pain-" + c.hook()).isPresent())
            .limit(FETCH_CASES)
            .toList();
    if (cases.isEmpty()) {
      return;
    }
    int requests = 0;
    int failed = 0;
    try (WarmUpFhirServer server =
        new WarmUpFhirServer(
            cases, services.templates("back-hip-pain-" + cases.get(0).hook()), fhir)) {
      FhirServers allowed = FhirServers.of(List.of(server.base()));
      for (ContentCase c : cases) {
        String serviceId = "back-hip-pain-" + c.hook();
        CdsRequest prefetched = request(c, serviceId);
        CdsRequest fetching =
            new CdsRequest(
                prefetched.hook(),
                prefetched.hookInstance(),
                server.base(),
                new CdsRequest.FhirAuthorization(
                    "warm-up", "Bearer", 60L, "patient/*.read", "cds-service", c.patientId()),
                prefetched.context(),
                null);
        try {
          hooks.warmUp(
              serviceId,
              fetching,
              c.evaluationDate().atStartOfDay(java.time.ZoneOffset.UTC),
              allowed);
          requests++;
        } catch (RuntimeException e) {
          failed++;
        }
      }
    }
    log.info(
        "fetch path warm: {} content-case requests read over loopback HTTP ({} failed) in {} ms",
        requests,
        failed,
        (System.nanoTime() - start) / 1_000_000);
  }

  /** The case as an EHR request: context, drafts and every prefetch key filled from its bundle. */
  private CdsRequest request(ContentCase c, String serviceId) {
    ObjectNode context = json.createObjectNode();
    context.put("userId", "Practitioner/warm-up");
    context.put("patientId", c.patientId());
    if (c.draftOrders() != null) {
      context.set("draftOrders", tree(c.draftOrders()));
      if (c.selections() != null && "order-select".equals(c.hook())) {
        c.selections().forEach(context.putArray("selections")::add);
      }
    }
    Map<String, JsonNode> prefetch = new LinkedHashMap<>();
    for (PrefetchTemplate template : services.templates(serviceId)) {
      List<Resource> resources =
          c.bundle().getEntry().stream()
              .map(Bundle.BundleEntryComponent::getResource)
              .filter(r -> template.accepts(r.fhirType()))
              .toList();
      if (template.isRead()) {
        resources.stream()
            .filter(r -> r.getIdElement().getIdPart().equals(c.patientId()))
            .findFirst()
            .ifPresent(patient -> prefetch.put(template.key(), tree(patient)));
      } else {
        Bundle searchset = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        resources.forEach(r -> searchset.addEntry().setResource(r));
        prefetch.put(template.key(), tree(searchset));
      }
    }
    return new CdsRequest(c.hook(), "warm-up", null, null, context, prefetch);
  }

  private JsonNode tree(Resource resource) {
    try {
      return json.readTree(fhir.newJsonParser().encodeResourceToString(resource));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
