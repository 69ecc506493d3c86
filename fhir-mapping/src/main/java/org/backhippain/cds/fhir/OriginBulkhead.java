package org.backhippain.cds.fhir;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * At most {@code perOrigin} fetches in flight per FHIR server origin, so that a slow or dripping
 * server holds only its own share of fetch threads and connections. A permit is taken before a
 * fetch is handed to a fetch thread (a waiting fetch holds no thread) and given back when it ends.
 */
final class OriginBulkhead {
  private final int perOrigin;
  private final ConcurrentMap<String, Semaphore> origins = new ConcurrentHashMap<>();

  OriginBulkhead(int perOrigin) {
    this.perOrigin = perOrigin;
  }

  /** Waits up to {@code timeoutNanos} for a permit; true when one was taken. */
  boolean acquire(String origin, long timeoutNanos) {
    Semaphore permits = origins.computeIfAbsent(origin, o -> new Semaphore(perOrigin, true));
    try {
      return permits.tryAcquire(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  void release(String origin) {
    origins.get(origin).release();
  }
}
