package org.backhippain.cds.service.system;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.backhippain.cds.fhir.PatientRecord;
import org.springframework.stereotype.Component;

/**
 * The service's Micrometer meters: hook latency per service and outcome (histogram), cards per
 * rule, FHIR fetch latency per prefetch key, source, origin and failure, errors per kind. Exposed
 * at {@code /actuator/metrics} (and Prometheus when a registry is added).
 */
@Component
public class CdsMetrics {
  private final MeterRegistry registry;

  CdsMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void hook(String service, String outcome, long nanos) {
    Timer.builder("cds.hook")
        .description("Hook call latency")
        .tag("service", service)
        .tag("outcome", outcome)
        .publishPercentileHistogram()
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /**
   * Where one answered hook's time went, in nanoseconds: request validation and draft gating,
   * patient data (prefetch parsing and any FHIR reads), CQL evaluation, card rendering, feedback
   * (snoozes and the card log).
   */
  public void stages(
      String service, long validate, long data, long cql, long cards, long feedback) {
    stage(service, "validate", validate);
    stage(service, "data", data);
    stage(service, "cql", cql);
    stage(service, "cards", cards);
    stage(service, "feedback", feedback);
  }

  private void stage(String service, String stage, long nanos) {
    Timer.builder("cds.hook.stage")
        .description("Time of one stage of an answered hook call")
        .tag("service", service)
        .tag("stage", stage)
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  /** A request refused with 503 because the memory budget for request bodies stayed full. */
  public void overloaded() {
    Counter.builder("cds.overloaded")
        .description("Requests refused with 503: request-body memory budget full")
        .register(registry)
        .increment();
  }

  public void card(String service, String ruleId) {
    Counter.builder("cds.cards")
        .description("Cards returned")
        .tag("service", service)
        .tag("rule", ruleId)
        .register(registry)
        .increment();
  }

  public void fetches(PatientRecord record) {
    for (PatientRecord.KeyOutcome outcome : record.outcomes()) {
      if (outcome.source() == PatientRecord.Source.FETCHED
          || outcome.source() == PatientRecord.Source.UNAVAILABLE) {
        Timer.builder("cds.fhir.fetch")
            .description(
                "Reads of the EHR's FHIR server, per prefetch key, origin (allowed servers only)"
                    + " and failure")
            .tag("key", outcome.key())
            .tag("source", outcome.source().name().toLowerCase(java.util.Locale.ROOT))
            .tag("origin", outcome.origin() == null ? "none" : outcome.origin())
            .tag("failure", outcome.failure() == null ? "none" : outcome.failure())
            .publishPercentileHistogram()
            .register(registry)
            .record(Duration.ofMillis(outcome.millis()));
      }
    }
  }

  public void error(String kind) {
    Counter.builder("cds.errors")
        .description("Requests answered with an error, by kind")
        .tag("kind", kind)
        .register(registry)
        .increment();
  }
}
