package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IJsonLikeParser;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.parser.json.jackson.JacksonStructure;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.backhippain.cds.fhir.FhirServers.FhirServer;
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
 * Turns one hook call's prefetch into typed R4 resources, reading from the EHR's FHIR server what
 * the EHR did not send ({@link FhirFetcher}, over the {@link OutboundClient}): only from a server
 * on the caller's allow-list, with the request's bearer token where its scope allows, in parallel,
 * all within one time budget and one share of the memory budget. Logs one line per request (keys,
 * sources, counts, timings, failures in words; never resource content, URLs with queries, or
 * tokens).
 */
public final class PatientDataLoader {
  private static final Logger log = LoggerFactory.getLogger(PatientDataLoader.class);

  private final FhirContext fhir;
  private final FetchSettings settings;
  private final FactDates dates;
  private final FhirFetcher fetcher;
  private final MemoryBudget memory;

  /**
   * @param executor the fetch threads, shared by all requests
   * @param zone the service's time zone: every date-time read is put into it ({@link FactDates})
   * @param memory the memory budget fetched bytes are reserved from (shared with request bodies)
   */
  public PatientDataLoader(
      FhirContext fhir,
      FetchSettings settings,
      ExecutorService executor,
      ZoneId zone,
      OutboundClient client,
      MemoryBudget memory) {
    this.fhir = fhir;
    this.settings = settings;
    this.dates = new FactDates(fhir, zone);
    this.fetcher = new FhirFetcher(fhir, settings, executor, client);
    this.memory = memory;
    // A resource's id is its own id, also inside a Bundle: HAPI would otherwise replace it with the
    // entry's fullUrl (server base included), and CQL that matches references ("Medication/x")
    // against ids would then miss, depending on how the EHR filled fullUrl.
    fhir.getParserOptions().setOverrideResourceIdWithBundleEntryFullUrl(false);
    client.install(fhir);
  }

  /**
   * Loads every template's data, its fetched bytes reserved from the memory budget until it
   * returns.
   *
   * @throws RequiredDataUnavailableException when a required key cannot be had
   */
  public PatientRecord load(List<PrefetchTemplate> templates, DataRequest request) {
    try (MemoryBudget.Reservation fetched = memory.reserve()) {
      return load(templates, request, fetched);
    }
  }

  /**
   * Loads every template's data, reserving fetched bytes in {@code fetched} (which the caller
   * closes once it no longer holds the resources).
   *
   * @throws RequiredDataUnavailableException when a required key cannot be had
   */
  public PatientRecord load(
      List<PrefetchTemplate> templates, DataRequest request, MemoryBudget.Reservation fetched) {
    long start = System.nanoTime();
    long deadline = start + settings.budget().toNanos();
    Map<String, KeyData> results = new LinkedHashMap<>();
    List<FhirFetcher.Key> toFetch = new ArrayList<>();
    Map<String, String> whyFetched = new LinkedHashMap<>();

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
      whyFetched.put(template.key(), why);
      toFetch.add(
          new FhirFetcher.Key(
              template, PrefetchTokens.resolve(template.query(), request.tokens()), partial));
    }
    Optional<FhirServer> server = request.allowed().match(request.fhirServer());
    if (!toFetch.isEmpty()) {
      results.putAll(fetch(toFetch, whyFetched, server, request, start, deadline, fetched));
    }
    PatientRecord record =
        assemble(templates, results, request.patientId(), server.map(FhirServer::origin));
    logSummary(record, start, server, request.fhirServer());
    return record;
  }

  /**
   * Refuses what may not be fetched at all (no server, not allowed, token rules), reads the rest.
   */
  private Map<String, KeyData> fetch(
      List<FhirFetcher.Key> keys,
      Map<String, String> whyFetched,
      Optional<FhirServer> server,
      DataRequest request,
      long start,
      long deadline,
      MemoryBudget.Reservation fetched) {
    AccessToken token = request.token();
    FetchFailure refusal =
        request.fhirServer() == null
            ? FetchFailure.NO_SERVER
            : server.isEmpty()
                ? FetchFailure.NOT_ALLOWED
                : token != null && token.forAnotherPatient(request.patientId())
                    ? FetchFailure.TOKEN_OTHER_PATIENT
                    : token != null && token.expired() ? FetchFailure.TOKEN_EXPIRED : null;
    Map<String, KeyData> results = new LinkedHashMap<>();
    List<FhirFetcher.Key> readable = new ArrayList<>();
    for (FhirFetcher.Key key : keys) {
      PrefetchTemplate template = key.template();
      String why = whyFetched.get(template.key());
      FetchFailure failure =
          refusal != null
              ? refusal
              : key.query() == null
                  ? FetchFailure.UNRESOLVED_TOKEN
                  : token != null && !token.covers(template.resourceType(), template.isRead())
                      ? FetchFailure.NOT_IN_SCOPE
                      : null;
      if (failure != null) {
        results.put(template.key(), KeyData.unavailable(failure, why + "; " + failure.words()));
      } else {
        readable.add(key);
      }
    }
    if (!readable.isEmpty()) {
      results.putAll(fetcher.fetch(server.get(), token, readable, start, deadline, fetched));
    }
    return results;
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

  static List<Resource> entries(PrefetchTemplate template, Bundle bundle) {
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
      List<PrefetchTemplate> templates,
      Map<String, KeyData> results,
      String patientId,
      Optional<String> origin) {
    Patient patient = null;
    int foreign = 0;
    List<Resource> resources = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> unavailable = new java.util.LinkedHashSet<>();
    List<KeyOutcome> outcomes = new ArrayList<>();
    for (PrefetchTemplate template : templates) {
      KeyData data = results.get(template.key());
      boolean fetchedOrTried =
          data.source() == Source.FETCHED || data.source() == Source.UNAVAILABLE;
      outcomes.add(
          new KeyOutcome(
              template.key(),
              data.source(),
              data.resources().size(),
              data.millis(),
              data.reason(),
              fetchedOrTried ? origin.orElse(null) : null,
              data.failure() == null ? null : data.failure().code()));
      if (template.required() && data.source() == Source.UNAVAILABLE) {
        throw new RequiredDataUnavailableException(template.key(), data.reason());
      }
      if (template.required() && template.isRead() && data.resources().isEmpty()) {
        throw new RequiredDataUnavailableException(template.key(), "no data");
      }
      if (data.source() == Source.UNAVAILABLE) {
        unavailable.add(template.key());
        continue;
      }
      for (Resource resource : data.resources()) {
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

  private void logSummary(
      PatientRecord record, long start, Optional<FhirServer> server, String fhirServer) {
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
    String from =
        server
            .map(s -> " from " + s.origin())
            .orElseGet(
                () ->
                    FhirServers.originOf(fhirServer)
                        .map(o -> " (" + o + " not on the allow-list)")
                        .orElse(fhirServer == null ? "" : " (fhirServer not a base URL)"));
    if (record.unavailable().isEmpty()) {
      log.debug("patient data loaded in {} ms{}: {}", millis, from, keys);
    } else {
      log.warn("patient data incomplete after {} ms{}: {}", millis, from, keys);
    }
  }

  private record Parsed(KeyData data, Bundle next, String problem) {
    static Parsed ok(KeyData data) {
      return new Parsed(data, null, null);
    }

    static Parsed problem(String problem) {
      return new Parsed(null, null, problem);
    }
  }
}
