package org.backhippain.cds.service.security;

import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The single-instance replay store: a map pruned as entries expire. */
public final class InMemoryReplayStore implements ReplayStore {
  private final ConcurrentHashMap<String, Instant> seen = new ConcurrentHashMap<>();
  private final AtomicInteger writes = new AtomicInteger();
  private final Clock clock;

  public InMemoryReplayStore(Clock clock) {
    this.clock = clock;
  }

  @Override
  public boolean firstUse(String issuer, String jti, Instant expiresAt) {
    Instant now = clock.instant();
    if (writes.incrementAndGet() % 1024 == 0) {
      seen.values().removeIf(expiry -> expiry.isBefore(now));
    }
    String key = issuer + "\n" + jti;
    Instant previous = seen.putIfAbsent(key, expiresAt);
    if (previous == null) {
      return true;
    }
    if (previous.isBefore(now)) {
      return seen.replace(key, previous, expiresAt);
    }
    return false;
  }
}
