package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import org.opencds.cqf.cql.engine.fhir.model.R4FhirModelResolver;

/**
 * The engine's R4 model resolver with a direct path for the common case: a property path that is
 * one element name ({@code code}, {@code onset}) is resolved as that property, as the engine would,
 * without its per-call regular expression (the engine's {@code resolvePath} compiles a pattern to
 * split every path on dots: about a tenth of an in-scope patient's evaluation in a JFR profile).
 * Any other path (dotted, indexed) goes to the engine unchanged.
 */
final class SimplePathModelResolver extends R4FhirModelResolver {
  SimplePathModelResolver(FhirContext fhir) {
    super(fhir);
  }

  @Override
  public Object resolvePath(Object target, String path) {
    if (path != null && !path.isEmpty() && path.indexOf('.') < 0 && path.indexOf('[') < 0) {
      return resolveProperty(target, path);
    }
    return super.resolvePath(target, path);
  }
}
