package org.backhippain.cds.cql;

import java.time.ZonedDateTime;
import org.backhippain.cds.fhir.PatientRecord;

/**
 * One evaluation: the patient's data, the hook being answered, and "now" (from the service's
 * injected clock, in the service's time zone; whole-day durations are counted in that zone).
 */
public record EvaluationInput(PatientRecord record, String hook, ZonedDateTime now) {}
