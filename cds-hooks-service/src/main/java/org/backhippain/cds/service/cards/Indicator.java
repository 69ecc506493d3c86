package org.backhippain.cds.service.cards;

import com.fasterxml.jackson.annotation.JsonValue;
import org.hl7.fhir.r4.model.PlanDefinition.RequestPriority;

/** Card urgency, in display order: critical first (clinical spec §3). */
public enum Indicator {
  CRITICAL,
  WARNING,
  INFO;

  /** routine → info, urgent → warning, stat or asap → critical (clinical spec §3). */
  static Indicator of(RequestPriority priority) {
    if (priority == null) {
      return INFO;
    }
    return switch (priority) {
      case STAT, ASAP -> CRITICAL;
      case URGENT -> WARNING;
      default -> INFO;
    };
  }

  @JsonValue
  String json() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
