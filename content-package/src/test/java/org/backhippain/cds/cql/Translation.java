package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;

/**
 * One translation of the packaged CQL for the test classes that need the translator's result types
 * (it takes seconds; the CQL never changes during a run).
 */
final class Translation {
  private static CqlCompilation translated;

  private Translation() {}

  static synchronized CqlCompilation get() {
    if (translated == null) {
      translated = CqlCompilation.translate(ContentPackage.load(FhirContext.forR4Cached()));
    }
    return translated;
  }
}
