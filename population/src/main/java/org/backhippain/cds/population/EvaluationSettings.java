package org.backhippain.cds.population;

import java.io.Serializable;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Set;

/**
 * What every executor needs to evaluate a patient the same way: the date the population is
 * evaluated as of, the service's time zone ({@code cds.time-zone}), the site's threshold overrides
 * ({@code cds.site-parameters}) and the prefetch keys the export cannot give.
 */
record EvaluationSettings(
    LocalDate asOf, String zone, Map<String, String> siteParameters, Set<String> unavailable)
    implements Serializable {

  EvaluationSettings {
    siteParameters = Map.copyOf(siteParameters);
    unavailable = Set.copyOf(unavailable);
  }

  ZoneId zoneId() {
    return ZoneId.of(zone);
  }

  /** "Now" for an evaluation as of a date: noon of that day in the zone, as the cases run. */
  ZonedDateTime noonOf(LocalDate date) {
    return date.atTime(12, 0).atZone(zoneId());
  }
}
