package org.backhippain.cds.cql;

import java.time.ZonedDateTime;
import java.util.List;
import org.backhippain.cds.fhir.PatientRecord;
import org.hl7.fhir.r4.model.Resource;

/**
 * One evaluation: the patient's data, the hook being answered, "now" (from the service's injected
 * clock, in the service's time zone; whole-day durations are counted in that zone), and for the
 * order hooks the draft orders under consideration ({@code drafts}: order-select's selections, or
 * all drafts) and every draft of the request ({@code allDrafts}).
 */
public record EvaluationInput(
    PatientRecord record,
    String hook,
    ZonedDateTime now,
    List<Resource> drafts,
    List<Resource> allDrafts) {

  public EvaluationInput {
    drafts = drafts == null ? List.of() : List.copyOf(drafts);
    allDrafts = allDrafts == null ? drafts : List.copyOf(allDrafts);
  }

  public EvaluationInput(PatientRecord record, String hook, ZonedDateTime now) {
    this(record, hook, now, List.of(), List.of());
  }
}
