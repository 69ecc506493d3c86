package org.backhippain.cds.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Drives the running service over real HTTP, as an EHR does: {@code given(...)} a request, {@code
 * when} posted, {@code then} an {@link Answer} asserted by rule id (never by array position).
 */
public final class HookClient {
  static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  public HookClient(int port) {
    this.base = "http://localhost:" + port;
  }

  public String base() {
    return base;
  }

  public String fhirBase() {
    return base + "/fhir";
  }

  /**
   * The one element of a card's array (suggestions, actions, links, codings): fails when the array
   * is missing, empty or holds more than one, so a test never reads "the first" of several.
   */
  public static JsonNode only(JsonNode array) {
    if (!array.isArray() || array.size() != 1) {
      throw new AssertionError("expected exactly one element, got " + array);
    }
    return array.get(0);
  }

  /** Parses JSON text (a FHIR resource encoded by HAPI, say) into a tree to embed in a request. */
  public static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The request an EHR sends for a content case at a hook: its patient, and for the order hooks its
   * draft orders (and at order-select its selections).
   */
  public static ObjectNode caseRequest(
      org.backhippain.cds.cql.ContentCase c, String hook, ca.uhn.fhir.context.FhirContext fhir) {
    ObjectNode request = request(hook, c.patientId());
    if (c.draftOrders() != null) {
      ObjectNode context = (ObjectNode) request.get("context");
      context.set(
          "draftOrders", json(fhir.newJsonParser().encodeResourceToString(c.draftOrders())));
      if (c.selections() != null && "order-select".equals(hook)) {
        c.selections().forEach(context.putArray("selections")::add);
      }
    }
    return request;
  }

  /**
   * An order-select request for {@code patientId} whose draft orders are a lumbar MRI ({@code
   * ServiceRequest/mri}, selected) authored at {@code authoredOn}; add further drafts to its {@code
   * context.draftOrders.entry}.
   */
  public static ObjectNode mriDrafted(ObjectNode request, String authoredOn) {
    String patientId = request.path("context").path("patientId").asText();
    ObjectNode context = (ObjectNode) request.get("context");
    context.putArray("selections").add("ServiceRequest/mri");
    context.set(
        "draftOrders",
        json(
            "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":"
                + "{\"resourceType\":\"ServiceRequest\",\"id\":\"mri\",\"status\":\"draft\","
                + "\"intent\":\"order\",\"authoredOn\":\""
                + authoredOn
                + "\",\"code\":{\"coding\":[{\"system\":\"http://www.ama-assn.org/go/cpt\","
                + "\"code\":\"72148\"}]},\"subject\":{\"reference\":\"Patient/"
                + patientId
                + "\"}}}]}"));
    return request;
  }

  /** A minimal valid request for a hook and patient. */
  public static ObjectNode request(String hook, String patientId) {
    ObjectNode body = JSON.createObjectNode();
    body.put("hook", hook);
    body.put("hookInstance", UUID.randomUUID().toString());
    ObjectNode context = body.putObject("context");
    context.put("userId", "Practitioner/test-clinician");
    context.put("patientId", patientId);
    return body;
  }

  /**
   * A smoker with back pain, everything prefetched (no FHIR server needed): answered with the
   * {@code smoking-cessation} card, with dates relative to the real clock.
   */
  public static ObjectNode smokerWithBackPain(String patientId) {
    ObjectNode request = request("patient-view", patientId);
    ObjectNode prefetch = request.putObject("prefetch");
    prefetch.set(
        "patient",
        json(
            "{\"resourceType\":\"Patient\",\"id\":\""
                + patientId
                + "\",\"birthDate\":\"1970-01-01\"}"));
    prefetch.set(
        "conditions",
        json(
            "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":"
                + "{\"resourceType\":\"Condition\",\"id\":\"c1\",\"clinicalStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":\"active\"}]},"
                + "\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"279039007\",\"display\":\"Low back pain\"}]},"
                + "\"onsetDateTime\":\""
                + java.time.LocalDate.now().minusDays(40)
                + "\"}}]}"));
    prefetch.set(
        "observations",
        json(
            "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":"
                + "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"72166-2\"}]},"
                + "\"effectiveDateTime\":\""
                + java.time.LocalDate.now().minusDays(5)
                + "\","
                + "\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":\"449868002\",\"display\":\"Smokes tobacco daily\"}]}}}]}"));
    for (String key : List.of("medications", "serviceRequests", "procedures", "coverage")) {
      prefetch.set(key, json("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));
    }
    return request;
  }

  /**
   * Fills {@code prefetch} the way an EHR does: each template of the service, tokens replaced, run
   * against the FHIR server.
   */
  public ObjectNode prefetched(ObjectNode request, String serviceId, String fhirBase) {
    JsonNode service = findService(serviceId);
    String patientId = request.path("context").path("patientId").asText();
    ObjectNode prefetch = request.putObject("prefetch");
    service
        .path("prefetch")
        .fields()
        .forEachRemaining(
            e -> {
              String query = e.getValue().asText().replace("{{context.patientId}}", patientId);
              prefetch.set(e.getKey(), get(fhirBase + "/" + query.replace("|", "%7C")).body());
            });
    return request;
  }

  private JsonNode findService(String serviceId) {
    for (JsonNode s : get(base + "/cds-services").body().path("services")) {
      if (serviceId.equals(s.path("id").asText())) {
        return s;
      }
    }
    throw new IllegalArgumentException(serviceId);
  }

  public Answer post(String serviceId, JsonNode body) {
    return send(
        HttpRequest.newBuilder(URI.create(base + "/cds-services/" + serviceId))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build());
  }

  public Answer postRaw(String serviceId, String contentType, String body) {
    return send(
        HttpRequest.newBuilder(URI.create(base + "/cds-services/" + serviceId))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  /** A POST of raw bytes (invalid UTF-8, say) with any Content-Type. */
  public Answer postBytes(String serviceId, String contentType, byte[] body) {
    return send(
        HttpRequest.newBuilder(URI.create(base + "/cds-services/" + serviceId))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build());
  }

  public Answer get(String url) {
    return send(
        HttpRequest.newBuilder(URI.create(url)).header("Accept", "application/json").build());
  }

  /** A GET with the operator's credential (HTTP Basic), as {@link ServiceTest} configures it. */
  public Answer getAsOperator(String url) {
    return send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Accept", "application/json")
            .header("Authorization", OPERATOR)
            .build());
  }

  static final String OPERATOR =
      "Basic "
          + java.util.Base64.getEncoder()
              .encodeToString(
                  "operator:operator-secret".getBytes(java.nio.charset.StandardCharsets.UTF_8));

  /** A page as a browser asks for it. */
  public Answer getPage(String url) {
    return send(HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/html").build());
  }

  private Answer send(HttpRequest request) {
    try {
      long start = System.nanoTime();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      long millis = (System.nanoTime() - start) / 1_000_000;
      JsonNode body;
      try {
        body = JSON.readTree(response.body());
      } catch (IOException notJson) {
        body = null;
      }
      return new Answer(
          response.statusCode(), body, response.body(), millis, response.headers().map());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** What the service answered. */
  public record Answer(
      int status, JsonNode body, String raw, long millis, Map<String, List<String>> headers) {

    /** Rule ids of the cards, in response order. */
    public List<String> ruleIds() {
      List<String> ids = new ArrayList<>();
      for (JsonNode card : body.path("cards")) {
        ids.add(card.path("source").path("topic").path("code").asText());
      }
      return ids;
    }

    /** A response header's first value, null when absent (names are case-insensitive). */
    public String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    public JsonNode card(String ruleId) {
      for (JsonNode card : body.path("cards")) {
        if (ruleId.equals(card.path("source").path("topic").path("code").asText())) {
          return card;
        }
      }
      throw new AssertionError("no card for rule " + ruleId + " in " + raw);
    }
  }
}
