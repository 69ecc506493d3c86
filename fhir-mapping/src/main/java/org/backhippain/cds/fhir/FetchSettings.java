package org.backhippain.cds.fhir;

import java.time.Duration;

/**
 * Limits for reading the EHR's FHIR server.
 *
 * @param budget wall-clock time for all prefetch work of one request (fetches run in parallel)
 * @param pageCap the most search pages followed per key; a search still having a {@code next} link
 *     after that many pages counts as unavailable
 * @param perOriginConcurrency fetches in flight at once per FHIR server origin (the rest wait
 *     within their hook's budget, then count as unavailable); also the connections per origin
 * @param maxConnections connections to all FHIR servers together
 * @param maxResponseBytes the largest single response read (bigger ones are abandoned)
 * @param maxHookBytes the most bytes read for one hook call, all keys and pages together
 * @param connectTimeout DNS lookup and TCP/TLS connect, each (never beyond the budget)
 */
public record FetchSettings(
    Duration budget,
    int pageCap,
    int perOriginConcurrency,
    int maxConnections,
    long maxResponseBytes,
    long maxHookBytes,
    Duration connectTimeout) {

  public FetchSettings {
    if (perOriginConcurrency < 1 || maxConnections < 1 || maxResponseBytes < 1) {
      throw new IllegalArgumentException("fetch limits must be positive");
    }
    maxResponseBytes = Math.min(maxResponseBytes, maxHookBytes);
  }

  public static FetchSettings defaults() {
    return new FetchSettings(
        Duration.ofMillis(1500), 20, 4, 16, 16L << 20, 32L << 20, Duration.ofSeconds(1));
  }

  /** These settings with another time budget and page cap (tests). */
  public FetchSettings with(Duration budget, int pageCap) {
    return new FetchSettings(
        budget,
        pageCap,
        perOriginConcurrency,
        maxConnections,
        maxResponseBytes,
        maxHookBytes,
        connectTimeout);
  }
}
