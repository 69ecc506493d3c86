package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;
import org.opencds.cqf.cql.engine.model.ModelResolver;
import org.opencds.cqf.cql.engine.retrieve.RetrieveProvider;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.runtime.Interval;

/**
 * Answers CQL retrieves ({@code [Condition: "Back or Hip Pain"]}) from one patient's resources held
 * in memory. Resources marked entered-in-error are never returned (spec §4: ignored everywhere).
 * Code filters use the content terminology; date filters are left to the CQL.
 */
final class PatientRetrieveProvider implements RetrieveProvider {
  private static final String VERIFICATION =
      "http://terminology.hl7.org/CodeSystem/condition-ver-status";

  private final Map<String, List<Object>> byType = new HashMap<>();
  private final ContentTerminology terminology;
  private final ModelResolver model;

  PatientRetrieveProvider(
      List<? extends Resource> resources, ContentTerminology terminology, ModelResolver model) {
    this.terminology = terminology;
    this.model = model;
    for (Resource resource : resources) {
      if (resource != null && !enteredInError(resource)) {
        byType.computeIfAbsent(resource.fhirType(), t -> new ArrayList<>()).add(resource);
      }
    }
  }

  static boolean enteredInError(Resource resource) {
    if (resource instanceof Condition condition) {
      return condition.getVerificationStatus().hasCoding(VERIFICATION, "entered-in-error");
    }
    Property status = resource.getNamedProperty("status");
    if (status == null || !status.hasValues()) {
      return false;
    }
    Base value = status.getValues().get(0);
    return value.isPrimitive() && "entered-in-error".equals(value.primitiveValue());
  }

  @Override
  public Iterable<Object> retrieve(
      String context,
      String contextPath,
      Object contextValue,
      String dataType,
      String templateId,
      String codePath,
      Iterable<Code> codes,
      String valueSet,
      String datePath,
      String dateLowPath,
      String dateHighPath,
      Interval dateRange) {
    List<Object> candidates = byType.getOrDefault(dataType, List.of());
    if (codePath == null || (codes == null && valueSet == null)) {
      return candidates;
    }
    List<Object> matches = new ArrayList<>();
    for (Object candidate : candidates) {
      if (matches(model.resolvePath(candidate, codePath), codes, valueSet)) {
        matches.add(candidate);
      }
    }
    return matches;
  }

  private boolean matches(Object value, Iterable<Code> codes, String valueSet) {
    for (Coding coding : codings(value)) {
      if (valueSet != null
          && terminology.contains(valueSet, coding.getSystem(), coding.getCode())) {
        return true;
      }
      if (codes != null) {
        for (Code code : codes) {
          if (code.getCode() != null
              && code.getCode().equals(coding.getCode())
              && (code.getSystem() == null || code.getSystem().equals(coding.getSystem()))) {
            return true;
          }
        }
      }
    }
    return false;
  }

  private static List<Coding> codings(Object value) {
    List<Coding> out = new ArrayList<>();
    if (value instanceof CodeableConcept concept) {
      out.addAll(concept.getCoding());
    } else if (value instanceof Coding coding) {
      out.add(coding);
    } else if (value instanceof CodeType code) {
      out.add(new Coding(code.getSystem(), code.getValue(), null));
    } else if (value instanceof Iterable<?> many) {
      for (Object each : many) {
        out.addAll(codings(each));
      }
    }
    return out;
  }
}
