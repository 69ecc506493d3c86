package org.backhippain.cds.fhir;

import java.time.LocalDate;
import java.util.Optional;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;
import org.hl7.fhir.r4.model.Type;

/**
 * The date of a fact (clinical spec §4) in Java, for code that must decide it outside the CQL: the
 * population run drops every fact dated after its "as of" date before the rules see the record. The
 * rules themselves use Common's {@code "Fact Date"}; both read the same elements: a Condition's
 * onset (dateTime, or Period start), else its recordedDate; an Observation's effective[x]
 * (dateTime, Period start or instant), else issued; a Procedure's performed[x] (dateTime or Period
 * start); a MedicationRequest's or ServiceRequest's authoredOn. A partial date counts from its
 * first day.
 *
 * <p>The resource must have been put into the service's time zone by {@link FactDates} first: the
 * date taken is the calendar date the value shows, as in the CQL.
 */
public final class FactDate {
  private FactDate() {}

  /** The fact's date, or empty when the resource has none (or is not a dated fact type). */
  public static Optional<LocalDate> of(Resource resource) {
    BaseDateTimeType value = null;
    if (resource instanceof Condition c) {
      value = first(dateOrStart(c.getOnset()), c.getRecordedDateElement());
    } else if (resource instanceof Observation o) {
      value = first(dateOrStart(o.getEffective()), o.getIssuedElement());
    } else if (resource instanceof Procedure p) {
      value = dateOrStart(p.getPerformed());
    } else if (resource instanceof MedicationRequest m) {
      value = m.getAuthoredOnElement();
    } else if (resource instanceof ServiceRequest s) {
      value = s.getAuthoredOnElement();
    }
    return Optional.ofNullable(value).filter(v -> v.getValue() != null).map(FactDate::day);
  }

  /** The first day of a possibly partial date or date-time, as the value shows it. */
  public static LocalDate day(BaseDateTimeType value) {
    String text = value.getValueAsString();
    int year = Integer.parseInt(text.substring(0, 4));
    int month = text.length() >= 7 ? Integer.parseInt(text.substring(5, 7)) : 1;
    int day = text.length() >= 10 ? Integer.parseInt(text.substring(8, 10)) : 1;
    return LocalDate.of(year, month, day);
  }

  /** A dateTime or instant, or a Period's start; nothing for other types (Age, Range, string). */
  private static BaseDateTimeType dateOrStart(Type value) {
    if (value instanceof BaseDateTimeType date) {
      return date;
    }
    return value instanceof Period period && period.hasStart() ? period.getStartElement() : null;
  }

  private static BaseDateTimeType first(BaseDateTimeType a, BaseDateTimeType b) {
    return a != null && a.getValue() != null ? a : b;
  }
}
