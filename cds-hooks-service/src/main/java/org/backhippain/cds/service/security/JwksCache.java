package org.backhippain.cds.service.security;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JWK Sets by URL, fetched with a timeout, kept for a TTL, and fetched again on the request path at
 * most once per refresh interval (an unknown {@code kid} cannot make every request fetch).
 */
final class JwksCache {
  private static final Logger log = LoggerFactory.getLogger(JwksCache.class);
  private static final int SIZE_LIMIT = 256 * 1024;

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Duration ttl;
  private final Duration refreshInterval;
  private final int timeoutMillis;

  JwksCache(Clock clock, Duration ttl, Duration refreshInterval, Duration timeout) {
    this.clock = clock;
    this.ttl = ttl;
    this.refreshInterval = refreshInterval;
    this.timeoutMillis = (int) timeout.toMillis();
  }

  /** The key with this id from the set at {@code url}, or null. */
  JWK key(String url, String kid) {
    Entry entry = entries.computeIfAbsent(url, u -> new Entry());
    synchronized (entry) {
      Instant now = clock.instant();
      boolean stale = entry.set == null || entry.fetchedAt.plus(ttl).isBefore(now);
      boolean unknownKid = entry.set != null && entry.set.getKeyByKeyId(kid) == null;
      boolean mayFetch =
          entry.attemptedAt == null || !entry.attemptedAt.plus(refreshInterval).isAfter(now);
      if ((stale || unknownKid) && mayFetch) {
        entry.attemptedAt = now;
        try {
          entry.set =
              JWKSet.load(URI.create(url).toURL(), timeoutMillis, timeoutMillis, SIZE_LIMIT);
          entry.fetchedAt = now;
          log.info("JWK Set fetched from {} ({} keys)", url, entry.set.getKeys().size());
        } catch (Exception e) {
          log.warn("JWK Set fetch from {} failed: {}", url, e.getClass().getSimpleName());
        }
      }
      return entry.set == null ? null : entry.set.getKeyByKeyId(kid);
    }
  }

  private static final class Entry {
    JWKSet set;
    Instant fetchedAt;
    Instant attemptedAt;
  }
}
