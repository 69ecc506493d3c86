package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IJsonLikeParser;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.json.jackson.JacksonStructure;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The one FHIR parser configuration of everything that reads EHR data (the service's context bean,
 * the population run): a context is configured here, once, when it is made, and nobody changes its
 * options afterwards.
 */
public final class FhirParsing {
  private FhirParsing() {}

  /**
   * A new R4 context configured for EHR data:
   *
   * <ul>
   *   <li>a resource's id is its own id, also inside a Bundle: HAPI would otherwise replace it with
   *       the entry's fullUrl (server base included), and CQL that matches references
   *       ("Medication/x") against ids would then miss, depending on how the EHR filled fullUrl;
   *   <li>HAPI's own reads (its client) are lenient: an invalid value is kept as text for the edge
   *       step ({@link UsableValues}) to remove and report, instead of failing the whole response.
   * </ul>
   */
  public static FhirContext context() {
    FhirContext fhir = FhirContext.forR4();
    fhir.getParserOptions().setOverrideResourceIdWithBundleEntryFullUrl(false);
    fhir.setParserErrorHandler(UsableValues.lenient());
    return fhir;
  }

  /**
   * Parses a JSON tree the caller already holds with a JSON {@code parser}, without writing it out
   * as text and reading it again.
   */
  public static IBaseResource parse(IParser parser, ObjectNode tree) {
    JacksonStructure structure = new JacksonStructure();
    structure.setNativeObject(tree);
    return ((IJsonLikeParser) parser).parseResource(structure);
  }

  /** True when {@code fhir} reads ids as {@link #context()} does. */
  static boolean configured(FhirContext fhir) {
    return !fhir.getParserOptions().isOverrideResourceIdWithBundleEntryFullUrl();
  }
}
