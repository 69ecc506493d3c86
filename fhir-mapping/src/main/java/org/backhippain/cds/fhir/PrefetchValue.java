package org.backhippain.cds.fhir;

/**
 * A prefetch entry as the EHR sent it. A key that is absent from the request has no {@code
 * PrefetchValue} at all; CDS Hooks 2.0 gives the three cases distinct meanings (§Prefetch
 * Template): absent = not filled (fetch it), JSON {@code null} = no data, otherwise a FHIR resource
 * (which may still be an OperationOutcome, i.e. an error to treat as absent).
 */
public sealed interface PrefetchValue {

  /** JSON {@code null}: the EHR says there is no data for this key. */
  record NoData() implements PrefetchValue {}

  /** A JSON value, kept as text so that HAPI parses it once, at the edge. */
  record Json(String text) implements PrefetchValue {}

  static PrefetchValue noData() {
    return new NoData();
  }

  static PrefetchValue json(String text) {
    return new Json(text);
  }
}
