package org.backhippain.cds.fhir;

import java.util.List;
import org.hl7.fhir.r4.model.Base;
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
        if (value instanceof Reference reference) {
          var target = reference.getReferenceElement();
          if ("Patient".equals(target.getResourceType())
              && target.getIdPart() != null
              && !patientId.equals(target.getIdPart())) {
            return true;
          }
        }
      }
    }
    return false;
  }
}
