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
import org.hl7.fhir.r4.model.Resource;
import org.opencds.cqf.cql.engine.model.ModelResolver;
import org.opencds.cqf.cql.engine.retrieve.RetrieveProvider;
import org.opencds.cqf.cql.engine.runtime.Code;
import org.opencds.cqf.cql.engine.runtime.Interval;

/**
 * Answers CQL retrieves ({@code [Condition: "Back or Hip Pain"]}) from one patient's resources held
 * in memory. Resources marked entered-in-error are never returned (spec §4: ignored everywhere).
 * Code filters use the content terminology; date filters are left to the CQL. One provider serves
 * one evaluation: a retrieve's matches are kept, since several libraries retrieve the same data.
 */
final class PatientRetrieveProvider implements RetrieveProvider {
  private static final String VERIFICATION =
      "http://terminology.hl7.org/CodeSystem/condition-ver-status";

  private static final String STATUS = "status";
  private final Map<String, List<Object>> byType = new HashMap<>();
  private final Map<List<Object>, List<Object>> matchesByRetrieve = new HashMap<>();
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
    Base[] status = resource.getProperty(STATUS.hashCode(), STATUS, false);
    if (status == null || status.length == 0 || status[0] == null) {
      return false;
    }
    return status[0].isPrimitive() && "entered-in-error".equals(status[0].primitiveValue());
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
      return new ArrayList<>(candidates);
    }
    List<Object> key = new ArrayList<>(4);
    key.add(dataType);
    key.add(codePath);
    key.add(valueSet);
    if (codes != null) {
      for (Code code : codes) {
        key.add(code.getSystem() + "|" + code.getCode());
      }
    }
    List<Object> matches =
        matchesByRetrieve.computeIfAbsent(
            key,
            k -> {
              List<Object> found = new ArrayList<>();
              for (Object candidate : candidates) {
                if (matches(codeValue(candidate, codePath), codes, valueSet)) {
                  found.add(candidate);
                }
              }
              return found;
            });
    return new ArrayList<>(matches);
  }

  /**
   * The value at a retrieve's code path: a direct HAPI property read for a simple name (the common
   * case, e.g. {@code code}, {@code medication}), else the engine's path resolution.
   */
  private Object codeValue(Object candidate, String codePath) {
    if (candidate instanceof Base base && codePath.indexOf('.') < 0) {
      try {
        Base[] values = base.getProperty(codePath.hashCode(), codePath, false);
        if (values != null) {
          return java.util.Arrays.asList(values);
        }
      } catch (org.hl7.fhir.exceptions.FHIRException e) {
        // not a property of this type: let the engine resolve the path
      }
    }
    return model.resolvePath(candidate, codePath);
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
