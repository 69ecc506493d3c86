package org.backhippain.cds.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Keeps another patient's data away from the rules: a resource whose subject, patient or
 * beneficiary is a {@code Patient/<id>} reference to someone other than the context patient (a
 * mixed-up prefetch, a server ignoring the patient filter) is not one of this patient's.
 */
final class PatientIdentityGuard {
  private static final List<String> PATIENT_REFERENCES =
      List.of("subject", "patient", "beneficiary");

  private PatientIdentityGuard() {}

  /**
   * True when the resource names another patient. References of another form (e.g. {@code
   * urn:uuid}) cannot be judged here and are kept.
   */
  static boolean ofAnotherPatient(Resource resource, String patientId) {
    if (patientId == null) {
      return false;
    }
    for (String name : PATIENT_REFERENCES) {
      Base[] values;
      try {
        values = resource.getProperty(name.hashCode(), name, false);
      } catch (org.hl7.fhir.exceptions.FHIRException e) {
        continue;
      }
      if (values == null) {
        continue;
      }
      for (Base value : values) {
        if (value instanceof Reference reference
            && another(reference.getReferenceElement(), patientId)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * The same judgement on a resource's JSON tree before it is parsed (a prefetched entry that no
   * rule reads is skipped unparsed, yet a mixed-up prefetch is still noticed): only the reference
   * elements' {@code reference} strings are read.
   */
  static boolean namesAnotherPatient(JsonNode resource, String patientId) {
    if (patientId == null) {
      return false;
    }
    for (String name : PATIENT_REFERENCES) {
      JsonNode value = resource.get(name);
      if (value == null) {
        continue;
      }
      Iterable<JsonNode> references = value.isArray() ? value : List.of(value);
      for (JsonNode reference : references) {
        JsonNode text = reference.get("reference");
        if (text != null && text.isTextual() && another(new IdType(text.asText()), patientId)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean another(org.hl7.fhir.instance.model.api.IIdType target, String patientId) {
    return "Patient".equals(target.getResourceType())
        && target.getIdPart() != null
        && !patientId.equals(target.getIdPart());
  }
}
