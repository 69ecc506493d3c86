package org.backhippain.cds.fhir;

import java.time.Duration;

/**
 * Limits for reading the EHR's FHIR server during one hook call.
 *
 * @param budget wall-clock time for all prefetch work of one request (fetches run in parallel)
 * @param pageCap the most search pages followed per key; a search still having a {@code next} link
 *     after that many pages counts as unavailable
 */
public record FetchSettings(Duration budget, int pageCap) {

  public static FetchSettings defaults() {
    return new FetchSettings(Duration.ofMillis(1500), 20);
  }
}
