package org.backhippain.cds.service.hooks;

import com.fasterxml.jackson.databind.JsonNode;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.fhir.PatientDataLoader;
import org.backhippain.cds.service.cards.CdsResponse;
import org.backhippain.cds.service.discovery.CdsService;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.springframework.context.annotation.Profile;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * Floors the load benchmark compares hooks with, only in the {@code bench} profile (open only
 * beside {@code demo}, see {@code SecurityConfiguration}): the same request through the same HTTP
 * stack (security, body reading and memory budget).
 *
 * <ul>
 *   <li>{@code POST /bench/floor/{id}}: validated and parsed (drafts, prefetch into typed
 *       resources) but not evaluated;
 *   <li>{@code POST /bench/json-floor/{id}}: the body read into a Jackson JSON tree and nothing
 *       more — what any JSON endpoint of this stack costs.
 * </ul>
 */
@RestController
@Profile("bench")
class BenchFloorController {
  private final HookRequests requests;
  private final PatientDataLoader loader;
  private final ServiceCatalog services;

  BenchFloorController(HookRequests requests, PatientDataLoader loader, ServiceCatalog services) {
    this.requests = requests;
    this.loader = loader;
    this.services = services;
  }

  @PostMapping(
      path = "/bench/floor/{id}",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  CdsResponse floor(@PathVariable String id, @RequestBody CdsRequest request) {
    CdsService service = requests.service(id, request);
    requests.drafts(service, request);
    loader.load(services.templates(id), HookRequests.data(request, FhirServers.none()));
    return CdsResponse.empty();
  }

  @PostMapping(
      path = "/bench/json-floor/{id}",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  CdsResponse jsonFloor(@PathVariable String id, @RequestBody JsonNode request) {
    return CdsResponse.empty();
  }
}
