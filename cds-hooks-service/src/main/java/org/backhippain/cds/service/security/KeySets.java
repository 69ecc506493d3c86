package org.backhippain.cds.service.security;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JWK Sets by URL, kept off the request path: a request only reads the last fetched set ({@link
 * #get}); fetches run on background threads — every set at start-up (before readiness), all of them
 * again every {@code jwksCacheTtl}, and one set on demand ({@link #refreshSoon}, at most once per
 * {@code jwksRefreshInterval}). A fetch is bounded: DNS, connect and read each within {@code
 * jwksTimeout}, the whole exchange within twice that, at most 256 KiB, no redirects. No lock is
 * held while fetching; a failed fetch keeps the previous set.
 */
final class KeySets implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KeySets.class);
  static final int SIZE_LIMIT = 256 * 1024;

  private final Map<String, JWKSet> sets = new ConcurrentHashMap<>();
  private final Map<String, Long> lastAttempt = new ConcurrentHashMap<>();
  private final List<String> configured;
  private final long refreshIntervalNanos;
  private final int timeoutMillis;
  private final ScheduledExecutorService fetcher;
  private final ExecutorService resolver;
  private final ScheduledExecutorService watchdog;
  private CompletableFuture<Void> initial = CompletableFuture.completedFuture(null);

  KeySets(Collection<String> configured, Duration ttl, Duration refreshInterval, Duration timeout) {
    this.configured = List.copyOf(configured);
    this.refreshIntervalNanos = refreshInterval.toNanos();
    this.timeoutMillis = (int) timeout.toMillis();
    AtomicInteger count = new AtomicInteger();
    this.fetcher =
        Executors.newScheduledThreadPool(
            Math.max(1, Math.min(4, this.configured.size())),
            daemon(() -> "jwks-fetch-" + count.incrementAndGet()));
    this.resolver = Executors.newSingleThreadExecutor(daemon(() -> "jwks-dns"));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon(() -> "jwks-deadline"));
    if (!this.configured.isEmpty()) {
      long period = ttl.toMillis();
      fetcher.scheduleWithFixedDelay(this::fetchConfigured, period, period, TimeUnit.MILLISECONDS);
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(
      java.util.function.Supplier<String> name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name.get());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Starts fetching every configured set; {@link #awaitInitial} waits for that (bounded). */
  void start() {
    initial =
        CompletableFuture.allOf(
            configured.stream()
                .map(url -> CompletableFuture.runAsync(() -> fetch(url), fetcher))
                .toArray(CompletableFuture[]::new));
  }

  /** Waits, at most as long as one fetch may take, for the start-up fetches. */
  void awaitInitial() {
    try {
      initial.get(3L * timeoutMillis + 1000, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn("JWK Sets: start-up fetches still running; tokens needing them are refused until");
    } catch (Exception e) {
      log.warn("JWK Sets: start-up fetch failed: {}", e.getClass().getSimpleName());
    }
  }

  /** The last set fetched from this URL, or null. Never does I/O. */
  JWKSet get(String url) {
    return sets.get(url);
  }

  /**
   * Asks for this set to be fetched again in the background, unless it was attempted less than the
   * refresh interval ago. Returns at once.
   */
  void refreshSoon(String url) {
    long now = System.nanoTime();
    Long previous = lastAttempt.get(url);
    boolean claimed =
        previous == null
            ? lastAttempt.putIfAbsent(url, now) == null
            : now - previous >= refreshIntervalNanos && lastAttempt.replace(url, previous, now);
    if (claimed) {
      fetcher.execute(() -> fetch(url));
    }
  }

  private void fetchConfigured() {
    configured.forEach(this::fetch);
  }

  void fetch(String url) {
    lastAttempt.put(url, System.nanoTime());
    long start = System.nanoTime();
    try {
      URL target = URI.create(url).toURL();
      resolve(target.getHost());
      JWKSet set = JWKSet.parse(new Bounded().fetch(target));
      sets.put(url, set.toPublicJWKSet());
      log.info(
          "JWK Set fetched from {} ({} keys) in {} ms",
          url,
          set.getKeys().size(),
          (System.nanoTime() - start) / 1_000_000);
    } catch (Exception e) {
      log.warn(
          "JWK Set fetch from {} failed after {} ms: {}",
          url,
          (System.nanoTime() - start) / 1_000_000,
          e.getClass().getSimpleName());
    }
  }

  /**
   * Resolves the host within the timeout (the JDK's own lookup has no bound); the connection then
   * finds the address in the JVM's address cache.
   */
  private void resolve(String host) throws Exception {
    CompletableFuture<InetAddress[]> lookup =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return InetAddress.getAllByName(host);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            },
            resolver);
    try {
      lookup.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof java.io.UncheckedIOException unchecked) {
        throw unchecked.getCause();
      }
      throw e;
    }
  }

  /** Nimbus's retriever, without redirects and with a deadline on the whole exchange. */
  private final class Bounded extends DefaultResourceRetriever {
    private ScheduledFuture<?> deadline;

    Bounded() {
      super(timeoutMillis, timeoutMillis, SIZE_LIMIT);
    }

    @Override
    protected HttpURLConnection openHTTPConnection(URL url) throws IOException {
      HttpURLConnection connection = super.openHTTPConnection(url);
      connection.setInstanceFollowRedirects(false);
      deadline =
          watchdog.schedule(connection::disconnect, 2L * timeoutMillis, TimeUnit.MILLISECONDS);
      return connection;
    }

    String fetch(URL url) throws IOException {
      try {
        return retrieveResource(url).getContent();
      } finally {
        if (deadline != null) {
          deadline.cancel(false);
        }
      }
    }
  }

  @Override
  public void close() {
    fetcher.shutdownNow();
    resolver.shutdownNow();
    watchdog.shutdownNow();
  }
}
