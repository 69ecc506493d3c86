package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import ca.uhn.fhir.util.FhirTerser;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.TimeZone;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Resource;

/**
 * Puts every date-time of a resource into the service's time zone ({@code cds.time-zone}), once,
 * right after HAPI parsed it (prefetch, fetched resources, draft orders), so that the CQL's date of
 * a fact (clinical spec §4) is the calendar date in that zone: the CQL takes the date a date-time
 * shows and cannot convert an offset to a configured zone itself. {@code 2026-06-14T22:30:00-05:00}
 * becomes {@code 2026-06-15T03:30:00Z} in UTC: the same instant, now dated June 15.
 *
 * <p>Values without a time (a date, a year, a year-month) have no zone and stay as they are. A
 * date-time with a time but no offset (invalid FHIR that HAPI reads leniently) is taken as local
 * time in the service's zone.
 */
public final class FactDates {
  private final FhirTerser terser;
  private final ZoneId zone;
  private final TimeZone timeZone;

  public FactDates(FhirContext fhir, ZoneId zone) {
    this.terser = fhir.newTerser();
    this.zone = zone;
    this.timeZone = TimeZone.getTimeZone(zone);
  }

  /** The zone date-times are put into. */
  public ZoneId zone() {
    return zone;
  }

  /** Converts the resource's date-times (contained resources included) in place; returns it. */
  public <R extends Resource> R normalize(R resource) {
    if (resource == null) {
      return null;
    }
    for (BaseDateTimeType value :
        terser.getAllPopulatedChildElementsOfType(resource, BaseDateTimeType.class)) {
      normalize(value);
    }
    return resource;
  }

  void normalize(BaseDateTimeType value) {
    if (value.getValue() == null
        || value.getPrecision().ordinal() <= TemporalPrecisionEnum.DAY.ordinal()) {
      return;
    }
    if (value.getTimeZone() == null) {
      // No offset: the wall-clock time is read as local time of the service's zone.
      LocalDateTime local =
          LocalDateTime.ofInstant(value.getValue().toInstant(), TimeZone.getDefault().toZoneId());
      value.setValue(Date.from(local.atZone(zone).toInstant()), value.getPrecision());
    }
    if (ZoneOffset.UTC.equals(zone.normalized())) {
      value.setTimeZoneZulu(true);
    } else {
      value.setTimeZone(timeZone);
    }
  }
}
