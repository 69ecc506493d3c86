package org.backhippain.cds.fhir;

import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.backhippain.cds.fhir.FhirServers.FhirServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one log line of a request's data load: each key's source, count, time and, when it failed,
 * why in words; the server's origin. Never resource content, URLs with queries, or tokens. Debug
 * when complete, a warning when a key was unavailable or values were removed.
 */
final class DataLoadLog {
  private static final Logger log = LoggerFactory.getLogger(DataLoadLog.class);

  private DataLoadLog() {}

  static void loaded(
      PatientRecord record, long startNanos, Optional<FhirServer> server, String fhirServer) {
    boolean complete = record.unavailable().isEmpty() && record.unusable().isEmpty();
    if (complete && !log.isDebugEnabled()) {
      return;
    }
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
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    String from =
        server
            .map(s -> " from " + s.origin())
            .orElseGet(
                () ->
                    FhirServers.originOf(fhirServer)
                        .map(o -> " (" + o + " not on the allow-list)")
                        .orElse(fhirServer == null ? "" : " (fhirServer not a base URL)"));
    if (complete) {
      log.debug("patient data loaded in {} ms{}: {}", millis, from, keys);
    } else {
      String unusable =
          record.unusable().isEmpty() ? "" : "; unusable values removed: " + record.unusable();
      log.warn("patient data incomplete after {} ms{}: {}{}", millis, from, keys, unusable);
    }
  }
}
