package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import org.backhippain.cds.fhir.FhirServers.FhirServer;

/**
 * Turns one hook call's prefetch into typed R4 resources, reading from the EHR's FHIR server what
 * the EHR did not send, all within one time budget and one share of the memory budget. It only
 * orders the steps, each of which is its own class:
 *
 * <ol>
 *   <li>{@link PrefetchReader}: each key's prefetch parsed once (what no rule reads skipped first,
 *       {@link ResourceSelection}), checked against its template;
 *   <li>{@link FetchRefusals}: what may not be read at all (no server, not on the allow-list, token
 *       rules);
 *   <li>{@link FhirFetcher}: the rest read in parallel over the {@link OutboundClient}, paged,
 *       within the deadline and byte limits;
 *   <li>{@link RecordAssembler}: entry cap, required keys, the edge step, the patient-identity
 *       guard, de-duplication;
 *   <li>{@link DataLoadLog}: one line per request.
 * </ol>
 *
 * <p>The FHIR context must be configured by {@link FhirParsing#context()}, with the outbound client
 * installed; the loader never changes it.
 */
public final class PatientDataLoader {
  private final FetchSettings settings;
  private final PrefetchReader prefetch;
  private final FhirFetcher fetcher;
  private final RecordAssembler assembler;
  private final MemoryBudget memory;

  /**
   * @param fhir a context from {@link FhirParsing#context()}, whose HAPI clients run on {@code
   *     client} ({@link OutboundClient#install})
   * @param client the outbound boundary every read goes through
   * @param executor the fetch threads, shared by all requests
   * @param zone the service's time zone: every date-time read is put into it ({@link FactDates},
   *     within the edge step {@link UsableValues})
   * @param memory the memory budget fetched bytes are reserved from (shared with request bodies)
   * @param selection which prefetched resources some rule reads: the others are skipped before
   *     parsing ({@link ResourceSelection#EVERY}: none)
   */
  public PatientDataLoader(
      FhirContext fhir,
      FetchSettings settings,
      ExecutorService executor,
      ZoneId zone,
      OutboundClient client,
      MemoryBudget memory,
      ResourceSelection selection) {
    if (!FhirParsing.configured(fhir) || !client.installedIn(fhir)) {
      throw new IllegalArgumentException(
          "the FHIR context must come from FhirParsing.context() with the client installed");
    }
    UsableValues values = new UsableValues(fhir, zone);
    this.settings = settings;
    this.prefetch = new PrefetchReader(values, selection);
    this.fetcher = new FhirFetcher(fhir, settings, executor, client);
    this.assembler = new RecordAssembler(values, settings.maxEntries());
    this.memory = memory;
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
    Set<String> unusable = new TreeSet<>();
    int foreignSkipped = 0;

    for (PrefetchTemplate template : templates) {
      PrefetchValue value = request.prefetch().get(template.key());
      String why = "not prefetched";
      PrefetchReader.Read read = null;
      if (value instanceof PrefetchValue.NoData) {
        results.put(template.key(), KeyData.noData());
        continue;
      }
      if (value instanceof PrefetchValue.Tree tree) {
        read = prefetch.read(template, tree.node(), request.patientId());
        foreignSkipped += read.foreignSkipped();
        if (read.complete()) {
          results.put(template.key(), read.data());
          unusable.addAll(read.dropped());
          continue;
        }
        why = read.problem();
      }
      whyFetched.put(template.key(), why);
      toFetch.add(
          new FhirFetcher.Key(
              template,
              PrefetchTokens.resolve(template.query(), request.tokens()),
              read == null ? null : read.next()));
    }
    Optional<FhirServer> server = request.allowed().match(request.fhirServer());
    if (!toFetch.isEmpty()) {
      FetchRefusals refusals = FetchRefusals.of(request, server);
      List<FhirFetcher.Key> readable = new ArrayList<>();
      for (FhirFetcher.Key key : toFetch) {
        String keyName = key.template().key();
        refusals
            .of(key)
            .ifPresentOrElse(
                failure ->
                    results.put(
                        keyName,
                        KeyData.unavailable(
                            failure, whyFetched.get(keyName) + "; " + failure.words())),
                () -> readable.add(key));
      }
      if (!readable.isEmpty()) {
        results.putAll(
            fetcher.fetch(server.get(), request.token(), readable, start, deadline, fetched));
      }
    }
    PatientRecord record =
        assembler.assemble(
            templates,
            results,
            request.patientId(),
            server.map(FhirServer::origin),
            unusable,
            foreignSkipped);
    DataLoadLog.loaded(record, start, server, request.fhirServer());
    return record;
  }
}
