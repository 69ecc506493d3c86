package org.backhippain.cds.fhir;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.backhippain.cds.fhir.PatientRecord.Source;
import org.hl7.fhir.r4.model.Resource;

/** What one prefetch key yielded, with how long it took and, when unavailable, why. */
record KeyData(
    Source source, List<Resource> resources, long millis, String reason, FetchFailure failure) {

  static KeyData noData() {
    return new KeyData(Source.NO_DATA, List.of(), 0, null, null);
  }

  static KeyData prefetched(List<Resource> resources) {
    return new KeyData(Source.PREFETCH, resources, 0, null, null);
  }

  static KeyData fetched(List<Resource> resources) {
    return new KeyData(Source.FETCHED, resources, 0, null, null);
  }

  static KeyData unavailable(FetchFailure failure, String reason) {
    return new KeyData(Source.UNAVAILABLE, List.of(), 0, reason, failure);
  }

  /** More entries than the {@code cds.max-bundle-entries} read per key: the key is not read. */
  static KeyData tooManyEntries(int count, int maxEntries) {
    return unavailable(
        FetchFailure.TOO_MANY_ENTRIES,
        count + " entries, more than the " + maxEntries + " read per key");
  }

  KeyData withMillis(long millis) {
    return new KeyData(source, resources, millis, reason, failure);
  }

  KeyData took(long startNanos) {
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    return new KeyData(source, resources, millis, reason, failure);
  }

  /** A failed wait is timed from the request start; a completed fetch keeps its own time. */
  KeyData tookAtLeast(long requestStartNanos) {
    return millis > 0 || source != Source.UNAVAILABLE ? this : took(requestStartNanos);
  }
}
