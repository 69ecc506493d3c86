package org.backhippain.cds.fhir;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A prefetch entry as the EHR sent it. A key that is absent from the request has no {@code
 * PrefetchValue} at all; CDS Hooks 2.0 gives the three cases distinct meanings (§Prefetch
 * Template): absent = not filled (fetch it), JSON {@code null} = no data, otherwise a FHIR resource
 * (which may still be an OperationOutcome, i.e. an error to treat as absent).
 */
public sealed interface PrefetchValue {

  /** JSON {@code null}: the EHR says there is no data for this key. */
  record NoData() implements PrefetchValue {}

  /**
   * A JSON value as the request's JSON tree; HAPI reads the tree itself, once, at the edge (no
   * re-serialization), after the loader has dropped its narratives. The tree must hold decimals
   * exactly ({@code JsonNodeFactory.withExactBigDecimals(true)} with {@code
   * USE_BIG_DECIMAL_FOR_FLOATS}), as FHIR decimals keep their precision.
   */
  record Tree(JsonNode node) implements PrefetchValue {}

  static PrefetchValue noData() {
    return new NoData();
  }

  static PrefetchValue tree(JsonNode node) {
    return new Tree(node);
  }
}
