package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.backhippain.cds.fhir.FetchFailure.Described;
import org.backhippain.cds.fhir.FhirServers.FhirServer;
import org.backhippain.cds.fhir.OutboundClient.Exchange;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * Reads the keys one hook could not take from its prefetch from the EHR's FHIR server, with HAPI's
 * generic client over the {@link OutboundClient}: in parallel on the shared fetch threads, at most
 * {@code perOriginConcurrency} at a time per origin, each key's search followed page by page (never
 * to a {@code next} link outside the server's base), all within the hook's deadline — when it
 * passes, every exchange still running is aborted and its key counts as unavailable.
 */
final class FhirFetcher {
  private final FhirContext fhir;
  private final FetchSettings settings;
  private final ExecutorService executor;
  private final OutboundClient client;
  private final OriginBulkhead bulkhead;

  FhirFetcher(
      FhirContext fhir, FetchSettings settings, ExecutorService executor, OutboundClient client) {
    this.fhir = fhir;
    this.settings = settings;
    this.executor = executor;
    this.client = client;
    this.bulkhead = new OriginBulkhead(settings.perOriginConcurrency());
  }

  /** One key to read: its template, the resolved query, and a first page from the prefetch. */
  record Key(PrefetchTemplate template, String query, Bundle first) {}

  Map<String, KeyData> fetch(
      FhirServer server,
      AccessToken token,
      List<Key> keys,
      long startNanos,
      long deadlineNanos,
      MemoryBudget.Reservation memory) {
    OutboundClient.Call call = client.call(server, token, deadlineNanos, memory);
    Map<String, KeyData> results = new LinkedHashMap<>();
    Map<String, Running> running = new LinkedHashMap<>();
    for (Key key : keys) {
      if (!bulkhead.acquire(server.origin(), deadlineNanos - System.nanoTime())) {
        results.put(
            key.template().key(),
            KeyData.unavailable(FetchFailure.ORIGIN_BUSY, FetchFailure.ORIGIN_BUSY.words())
                .took(startNanos));
        continue;
      }
      Running fetch = new Running(server.origin(), call.exchange(fhir), key);
      fetch.future = executor.submit(fetch);
      running.put(key.template().key(), fetch);
    }
    for (Map.Entry<String, Running> entry : running.entrySet()) {
      results.put(entry.getKey(), await(entry.getValue(), deadlineNanos).tookAtLeast(startNanos));
    }
    return results;
  }

  private KeyData await(Running fetch, long deadlineNanos) {
    try {
      return fetch.future.get(Math.max(deadlineNanos - System.nanoTime(), 0), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | CancellationException e) {
      fetch.cancel();
      return KeyData.unavailable(FetchFailure.TIMEOUT, "timeout after budget");
    } catch (ExecutionException e) {
      return failed(fetch.exchange, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fetch.cancel();
      return KeyData.unavailable(FetchFailure.TIMEOUT, "interrupted");
    }
  }

  private static KeyData failed(Exchange exchange, Throwable error) {
    Described described =
        exchange.failure() != null ? exchange.failure() : FetchFailure.describe(error);
    return KeyData.unavailable(described.failure(), described.words());
  }

  /** One key's fetch on a fetch thread; the origin permit is returned exactly once. */
  private final class Running implements Callable<KeyData> {
    private final String origin;
    private final Exchange exchange;
    private final Key key;
    private final AtomicBoolean claimed = new AtomicBoolean();
    private Future<KeyData> future;

    Running(String origin, Exchange exchange, Key key) {
      this.origin = origin;
      this.exchange = exchange;
      this.key = key;
    }

    @Override
    public KeyData call() {
      if (!claimed.compareAndSet(false, true)) {
        return KeyData.unavailable(FetchFailure.TIMEOUT, "timeout after budget");
      }
      long t0 = System.nanoTime();
      try {
        return read(exchange, key).took(t0);
      } catch (RuntimeException e) {
        return failed(exchange, e).took(t0);
      } finally {
        bulkhead.release(origin);
      }
    }

    /** At the deadline: a fetch not started gives its permit back; a running one is aborted. */
    void cancel() {
      if (claimed.compareAndSet(false, true)) {
        bulkhead.release(origin);
      }
      future.cancel(true);
      exchange.abort();
    }
  }

  private KeyData read(Exchange exchange, Key key) {
    return exchange.run(hapi -> read(hapi, exchange, key));
  }

  private KeyData read(IGenericClient hapi, Exchange exchange, Key key) {
    PrefetchTemplate template = key.template();
    if (template.isRead()) {
      String id = key.query().substring(key.query().indexOf('/') + 1);
      IBaseResource resource = hapi.read().resource(template.resourceType()).withId(id).execute();
      if (!template.accepts(resource.fhirType())) {
        return KeyData.unavailable(
            FetchFailure.WRONG_TYPE, "FHIR server sent the wrong resource type");
      }
      return KeyData.fetched(List.of((Resource) resource));
    }
    Bundle page =
        key.first() != null
            ? key.first()
            : hapi.search().byUrl(key.query()).returnBundle(Bundle.class).execute();
    List<Resource> resources = new ArrayList<>(PrefetchReader.entries(template, page));
    int pages = 1;
    while (page.getLink(Bundle.LINK_NEXT) != null) {
      if (pages >= settings.pageCap()) {
        return KeyData.unavailable(
            FetchFailure.PAGE_CAP, "search cut short at page cap " + settings.pageCap());
      }
      if (System.nanoTime() > exchange.call.deadlineNanos) {
        return KeyData.unavailable(FetchFailure.TIMEOUT, "timeout while paging");
      }
      Optional<String> next =
          exchange.call.server.resolveUnder(page.getLink(Bundle.LINK_NEXT).getUrl());
      if (next.isEmpty()) {
        return KeyData.unavailable(FetchFailure.NEXT_OUTSIDE, FetchFailure.NEXT_OUTSIDE.words());
      }
      page = hapi.loadPage().byUrl(next.get()).andReturnBundle(Bundle.class).execute();
      resources.addAll(PrefetchReader.entries(template, page));
      pages++;
      if (resources.size() > settings.maxEntries()) {
        // Such a key is not read (RecordAssembler): no need to read its remaining pages.
        return KeyData.unavailable(
            FetchFailure.TOO_MANY_ENTRIES,
            "search has more than the "
                + settings.maxEntries()
                + " entries read per key; paging stopped");
      }
    }
    return KeyData.fetched(resources);
  }
}
