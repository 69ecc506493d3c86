package org.backhippain.cds.population;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.backhippain.cds.fhir.FactDate;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Resource;

/**
 * A patient's record as it stood on a date D: every fact dated after D (clinical spec §4, {@link
 * FactDate}) is dropped, so later facts never count; a Condition that abated after D was still
 * active on D, so it is given back its active status (a copy; the export's resource is not
 * changed). Resources without a date of fact (Coverage, Medication) are kept.
 */
final class AsOf {
  static final String CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical";

  private AsOf() {}

  static List<Resource> of(List<Resource> resources, LocalDate date) {
    List<Resource> out = new ArrayList<>(resources.size());
    for (Resource resource : resources) {
      Optional<LocalDate> factDate = FactDate.of(resource);
      if (factDate.isPresent() && factDate.get().isAfter(date)) {
        continue;
      }
      if (resource instanceof Condition condition && abatedAfter(condition, date)) {
        Condition active = condition.copy();
        active.setAbatement(null);
        CodeableConcept status = new CodeableConcept();
        status.addCoding().setSystem(CLINICAL).setCode("active");
        active.setClinicalStatus(status);
        out.add(active);
      } else {
        out.add(resource);
      }
    }
    return out;
  }

  static boolean abatedAfter(Condition condition, LocalDate date) {
    BaseDateTimeType abatement = null;
    if (condition.getAbatement() instanceof BaseDateTimeType d) {
      abatement = d;
    } else if (condition.getAbatement() instanceof Period p && p.hasStart()) {
      abatement = p.getStartElement();
    }
    return abatement != null
        && abatement.getValue() != null
        && FactDate.day(abatement).isAfter(date);
  }
}
