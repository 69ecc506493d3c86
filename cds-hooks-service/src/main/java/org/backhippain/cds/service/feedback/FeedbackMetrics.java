package org.backhippain.cds.service.feedback;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.stereotype.Component;

/**
 * The feedback meters: {@code cds.snoozed} (by rule) and {@code cds.feedback} (by rule, outcome,
 * reason).
 */
@Component
class FeedbackMetrics {
  private final MeterRegistry meters;

  FeedbackMetrics(MeterRegistry meters) {
    this.meters = meters;
  }

  /** A card of this rule was not shown: snoozed. */
  void snoozed(String ruleId) {
    Counter.builder("cds.snoozed").tag("rule", ruleId).register(meters).increment();
  }

  /** A feedback entry was stored; {@code reason} is {@code none} without an override reason. */
  void received(String ruleId, String outcome, String reason) {
    Counter.builder("cds.feedback")
        .tag("rule", ruleId)
        .tag("outcome", outcome)
        .tag("reason", reason)
        .register(meters)
        .increment();
  }
}
