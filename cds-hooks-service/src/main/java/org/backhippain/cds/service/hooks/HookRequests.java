package org.backhippain.cds.service.hooks;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.backhippain.cds.fhir.AccessToken;
import org.backhippain.cds.fhir.DataRequest;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.fhir.PrefetchValue;
import org.backhippain.cds.fhir.UsableValues;
import org.backhippain.cds.service.discovery.CdsService;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.system.CdsException;
import org.backhippain.cds.service.system.CdsProperties;
import org.springframework.stereotype.Component;

/**
 * What a hook request says, read once by every path that answers one (the hook, the start-up
 * warm-up, the benchmark floor): the service it is for (404 when unknown) once the request is valid
 * for it (400 naming the field), its draft orders, and the data request for the patient's data.
 */
@Component
class HookRequests {
  private static final List<String> ORDER_HOOKS = List.of("order-select", "order-sign");

  /** A FHIR id (R4 {@code id} datatype): {@code context.patientId} names a Patient by it. */
  private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  /** Longer than any UUID spelling; the hook instance is logged with every hook. */
  static final int MAX_HOOK_INSTANCE = 128;

  private final ServiceCatalog services;
  private final UsableValues values;
  private final int maxEntries;

  HookRequests(ServiceCatalog services, FhirContext fhir, CdsProperties properties) {
    this.services = services;
    this.values = new UsableValues(fhir, properties.timeZone());
    this.maxEntries = properties.maxBundleEntries();
  }

  /**
   * The service for {@code serviceId} (404 when unknown) once the request is valid for it (400).
   */
  CdsService service(String serviceId, CdsRequest request) {
    CdsService service =
        services
            .service(serviceId)
            .orElseThrow(() -> CdsException.notFound("no CDS service with id '" + serviceId + "'"));
    validate(service, request);
    return service;
  }

  /** The order hooks' drafts (none for other hooks), parsed once through the edge step. */
  DraftOrders drafts(CdsService service, CdsRequest request) {
    return DraftOrders.of(service.hook(), request.context(), values, maxEntries);
  }

  /**
   * The patient-data request: the prefetch, the query tokens from the context and user, the
   * caller's FHIR server and token, and the servers it may name.
   */
  static DataRequest data(CdsRequest request, FhirServers allowed) {
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
}
