package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IJsonLikeParser;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.parser.json.jackson.JacksonStructure;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.IRestfulClientFactory;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.exceptions.FhirClientConnectionException;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.backhippain.cds.fhir.PatientRecord.KeyOutcome;
import org.backhippain.cds.fhir.PatientRecord.Source;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one hook call's prefetch into typed R4 resources, fetching from the EHR's FHIR server what
 * the EHR did not send: in parallel, with the request's bearer token, all within one time budget.
 * Logs one line per request (keys, sources, counts, timings; never resource content or tokens).
 */
public final class PatientDataLoader {
  private static final Logger log = LoggerFactory.getLogger(PatientDataLoader.class);

  private final FhirContext fhir;
  private final FetchSettings settings;
  private final ExecutorService executor;
  private final FactDates dates;

  /**
   * @param zone the service's time zone: every date-time read is put into it ({@link FactDates})
   */
  public PatientDataLoader(
      FhirContext fhir, FetchSettings settings, ExecutorService executor, ZoneId zone) {
    this.fhir = fhir;
    this.settings = settings;
    this.executor = executor;
    this.dates = new FactDates(fhir, zone);
    // A resource's id is its own id, also inside a Bundle: HAPI would otherwise replace it with the
    // entry's fullUrl (server base included), and CQL that matches references ("Medication/x")
    // against ids would then miss, depending on how the EHR filled fullUrl.
    fhir.getParserOptions().setOverrideResourceIdWithBundleEntryFullUrl(false);
    IRestfulClientFactory clients = fhir.getRestfulClientFactory();
    clients.setServerValidationMode(ServerValidationModeEnum.NEVER);
    int budgetMillis = (int) settings.budget().toMillis();
    clients.setSocketTimeout(budgetMillis);
    clients.setConnectTimeout(Math.min(budgetMillis, 1000));
    clients.setConnectionRequestTimeout(budgetMillis);
  }

  /**
   * Loads every template's data.
   *
   * @throws RequiredDataUnavailableException when a required key cannot be had
   */
  public PatientRecord load(List<PrefetchTemplate> templates, DataRequest request) {
    long start = System.nanoTime();
    long deadline = start + settings.budget().toNanos();
    Map<String, KeyData> results = new LinkedHashMap<>();
    Map<String, Future<KeyData>> pending = new LinkedHashMap<>();
    IGenericClient client = client(request);

    for (PrefetchTemplate template : templates) {
      PrefetchValue value = request.prefetch().get(template.key());
      String why = "not prefetched";
      Bundle partial = null;
      if (value instanceof PrefetchValue.NoData) {
        results.put(template.key(), KeyData.noData());
        continue;
      }
      if (value instanceof PrefetchValue.Tree tree) {
        Parsed parsed = parse(template, tree.node(), request.patientId());
        if (parsed.data != null && parsed.next == null) {
          results.put(template.key(), parsed.data);
          continue;
        }
        why = parsed.problem;
        partial = parsed.next;
      }
      String query = PrefetchTokens.resolve(template.query(), request.tokens());
      if (client == null) {
        results.put(template.key(), KeyData.unavailable(why + "; no fhirServer"));
      } else if (query == null) {
        results.put(template.key(), KeyData.unavailable("unresolved prefetch token"));
      } else {
        Bundle first = partial;
        pending.put(
            template.key(),
            executor.submit(
                () -> {
                  long t0 = System.nanoTime();
                  return fetch(client, template, query, first, deadline).took(t0);
                }));
      }
    }

    for (Map.Entry<String, Future<KeyData>> entry : pending.entrySet()) {
      results.put(entry.getKey(), await(entry.getValue(), deadline).tookAtLeast(start));
    }
    PatientRecord record = assemble(templates, results, request.patientId());
    logSummary(record, start);
    return record;
  }

  /** A client for the EHR's FHIR server, or {@code null} when none (or no usable URL) was given. */
  private IGenericClient client(DataRequest request) {
    String base = request.fhirServer();
    if (base == null || !base.matches("(?i)https?://[^\\s]+")) {
      if (base != null) {
        log.warn("fhirServer is not an http(s) URL; reading nothing from it");
      }
      return null;
    }
    IGenericClient client;
    try {
      client = fhir.newRestfulGenericClient(stripSlash(base));
    } catch (RuntimeException e) {
      log.warn("fhirServer URL not usable ({})", e.getClass().getSimpleName());
      return null;
    }
    if (request.accessToken() != null && !request.accessToken().isBlank()) {
      client.registerInterceptor(new BearerTokenAuthInterceptor(request.accessToken()));
    }
    return client;
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  private KeyData await(Future<KeyData> future, long deadline) {
    long remaining = deadline - System.nanoTime();
    try {
      return future.get(Math.max(remaining, 0), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      return KeyData.unavailable("timeout after budget");
    } catch (ExecutionException e) {
      return KeyData.unavailable(describe(e.getCause()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      return KeyData.unavailable("interrupted");
    }
  }

  private KeyData fetch(
      IGenericClient client, PrefetchTemplate template, String query, Bundle first, long deadline) {
    if (template.isRead()) {
      String id = query.substring(query.indexOf('/') + 1);
      IBaseResource resource = client.read().resource(template.resourceType()).withId(id).execute();
      if (!template.accepts(resource.fhirType())) {
        return KeyData.unavailable("server returned " + resource.fhirType());
      }
      return KeyData.fetched(List.of((Resource) resource));
    }
    Bundle page =
        first != null ? first : client.search().byUrl(query).returnBundle(Bundle.class).execute();
    List<Resource> resources = new ArrayList<>(entries(template, page));
    int pages = 1;
    while (page.getLink(Bundle.LINK_NEXT) != null) {
      if (pages >= settings.pageCap()) {
        return KeyData.unavailable("search cut short at page cap " + settings.pageCap());
      }
      if (System.nanoTime() > deadline) {
        return KeyData.unavailable("timeout while paging");
      }
      page = client.loadPage().next(page).execute();
      resources.addAll(entries(template, page));
      pages++;
    }
    return KeyData.fetched(resources);
  }

  private Parsed parse(PrefetchTemplate template, JsonNode json, String patientId) {
    if (!(json instanceof ObjectNode object)) {
      return Parsed.problem("prefetch not a JSON object");
    }
    IBaseResource resource;
    try {
      dropNarratives(object);
      JacksonStructure structure = new JacksonStructure();
      structure.setNativeObject(object);
      resource = ((IJsonLikeParser) parser()).parseResource(structure);
    } catch (RuntimeException e) {
      // HAPI signals malformed input with several exception types; all mean "not usable".
      return Parsed.problem("prefetch not parseable FHIR");
    }
    String type = resource.fhirType();
    if ("OperationOutcome".equals(type)) {
      return Parsed.problem("prefetch was an OperationOutcome");
    }
    if (template.isRead()) {
      if (!template.accepts(type)) {
        return Parsed.problem("prefetch was " + type);
      }
      if (resource instanceof Patient p
          && patientId != null
          && !patientId.equals(p.getIdElement().getIdPart())) {
        return Parsed.problem("prefetch was another patient");
      }
      return Parsed.ok(KeyData.prefetched(List.of((Resource) resource)));
    }
    if (!(resource instanceof Bundle bundle)) {
      return Parsed.problem("prefetch was " + type + ", not a Bundle");
    }
    if (bundle.getLink(Bundle.LINK_NEXT) != null) {
      return new Parsed(null, bundle, "prefetch search has more pages");
    }
    return Parsed.ok(KeyData.prefetched(entries(template, bundle)));
  }

  /**
   * Drops the narrative ({@code text}) of a prefetched resource and of a searchset's entries before
   * HAPI reads them: no rule reads narrative, and parsing its XHTML took about a third of the parse
   * time of a Synthea prefetch.
   */
  private static void dropNarratives(ObjectNode resource) {
    resource.remove("text");
    JsonNode entries = resource.get("entry");
    if (entries != null && entries.isArray()) {
      for (JsonNode entry : entries) {
        if (entry.get("resource") instanceof ObjectNode entryResource) {
          entryResource.remove("text");
        }
      }
    }
  }

  private IParser parser() {
    return fhir.newJsonParser().setParserErrorHandler(new LenientErrorHandler(false));
  }

  private static List<Resource> entries(PrefetchTemplate template, Bundle bundle) {
    List<Resource> out = new ArrayList<>();
    for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
      Resource resource = entry.getResource();
      if (resource != null && template.accepts(resource.fhirType())) {
        out.add(resource);
      }
    }
    return out;
  }

  private PatientRecord assemble(
      List<PrefetchTemplate> templates, Map<String, KeyData> results, String patientId) {
    Patient patient = null;
    int foreign = 0;
    List<Resource> resources = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> unavailable = new java.util.LinkedHashSet<>();
    List<KeyOutcome> outcomes = new ArrayList<>();
    for (PrefetchTemplate template : templates) {
      KeyData data = results.get(template.key());
      outcomes.add(
          new KeyOutcome(
              template.key(), data.source, data.resources.size(), data.millis, data.reason));
      if (template.required() && data.source == Source.UNAVAILABLE) {
        throw new RequiredDataUnavailableException(template.key(), data.reason);
      }
      if (template.required() && template.isRead() && data.resources.isEmpty()) {
        throw new RequiredDataUnavailableException(template.key(), "no data");
      }
      if (data.source == Source.UNAVAILABLE) {
        unavailable.add(template.key());
        continue;
      }
      for (Resource resource : data.resources) {
        dates.normalize(resource);
        if (resource instanceof Patient p && template.isRead()) {
          patient = p;
        } else if (ofAnotherPatient(resource, patientId)) {
          foreign++;
        } else if (!resource.hasIdElement() || seen.add(identity(resource))) {
          resources.add(resource);
        }
      }
    }
    if (foreign > 0) {
      log.warn("ignored {} resources that name another patient as their subject", foreign);
    }
    return new PatientRecord(patient, resources, unavailable, outcomes);
  }

  /**
   * True when the resource's subject, patient or beneficiary is a {@code Patient/<id>} reference to
   * someone other than the context patient: such data (a mixed-up prefetch, a server ignoring the
   * patient filter) must never reach the rules. References of another form (e.g. {@code urn:uuid})
   * cannot be judged here and are kept.
   */
  static boolean ofAnotherPatient(Resource resource, String patientId) {
    if (patientId == null) {
      return false;
    }
    for (String name : PATIENT_REFERENCES) {
      Base[] values;
      try {
        values = resource.getProperty(name.hashCode(), name, false);
      } catch (org.hl7.fhir.exceptions.FHIRException e) {
        continue;
      }
      if (values == null) {
        continue;
      }
      for (Base value : values) {
        if (value instanceof Reference reference) {
          var target = reference.getReferenceElement();
          if ("Patient".equals(target.getResourceType())
              && target.getIdPart() != null
              && !patientId.equals(target.getIdPart())) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static final List<String> PATIENT_REFERENCES =
      List.of("subject", "patient", "beneficiary");

  private static String identity(Resource resource) {
    return resource.fhirType() + "/" + resource.getIdElement().getIdPart();
  }

  private void logSummary(PatientRecord record, long start) {
    String keys =
        record.outcomes().stream()
            .map(
                o ->
                    o.key()
                        + "="
                        + o.source()
                        + "("
                        + o.resourceCount()
                        + ", "
                        + o.millis()
                        + " ms"
                        + (o.reason() == null ? "" : ", " + o.reason())
                        + ")")
            .collect(Collectors.joining(" "));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    if (record.unavailable().isEmpty()) {
      log.debug("patient data loaded in {} ms: {}", millis, keys);
    } else {
      log.warn("patient data incomplete after {} ms: {}", millis, keys);
    }
  }

  /** Names a fetch failure by kind and status only (no bodies, no URLs with tokens). */
  static String describe(Throwable error) {
    if (error instanceof BaseServerResponseException e) {
      return "FHIR server answered HTTP " + e.getStatusCode();
    }
    if (error instanceof FhirClientConnectionException) {
      return "FHIR server unreachable or too slow";
    }
    if (error instanceof DataFormatException) {
      return "FHIR server sent malformed FHIR";
    }
    if (error instanceof ClassCastException) {
      return "FHIR server sent the wrong resource type";
    }
    return "FHIR fetch failed (" + error.getClass().getSimpleName() + ")";
  }

  private record Parsed(KeyData data, Bundle next, String problem) {
    static Parsed ok(KeyData data) {
      return new Parsed(data, null, null);
    }

    static Parsed problem(String problem) {
      return new Parsed(null, null, problem);
    }
  }

  private record KeyData(Source source, List<Resource> resources, long millis, String reason) {
    static KeyData noData() {
      return new KeyData(Source.NO_DATA, List.of(), 0, null);
    }

    static KeyData prefetched(List<Resource> resources) {
      return new KeyData(Source.PREFETCH, resources, 0, null);
    }

    static KeyData fetched(List<Resource> resources) {
      return new KeyData(Source.FETCHED, resources, 0, null);
    }

    static KeyData unavailable(String reason) {
      return new KeyData(Source.UNAVAILABLE, List.of(), 0, reason);
    }

    KeyData took(long startNanos) {
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      return new KeyData(source, resources, millis, reason);
    }

    /** A failed wait is timed from the request start; a completed fetch keeps its own time. */
    KeyData tookAtLeast(long requestStartNanos) {
      return millis > 0 || source != Source.UNAVAILABLE ? this : took(requestStartNanos);
    }
  }
}
