package org.backhippain.cds.fhir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.backhippain.cds.fhir.PatientRecord.KeyOutcome;
import org.backhippain.cds.fhir.PatientRecord.Source;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts every key's data together into one {@link PatientRecord}: a key over the entry cap is
 * unavailable, a required key that is unavailable (or a required read that is empty) ends the
 * request, every resource passes the edge step ({@link UsableValues#check}), another patient's data
 * is left out ({@link PatientIdentityGuard}) and a resource that came under two keys is kept once.
 */
final class RecordAssembler {
  private static final Logger log = LoggerFactory.getLogger(RecordAssembler.class);

  private final UsableValues values;
  private final int maxEntries;

  RecordAssembler(UsableValues values, int maxEntries) {
    this.values = values;
    this.maxEntries = maxEntries;
  }

  /**
   * @param results each template's data, by key
   * @param origin the FHIR server's origin, named in the outcome of keys read (or tried) there
   * @param unusable element paths already removed (by the prefetch parse); added to here
   * @param foreignSkipped prefetched entries naming another patient, skipped before parsing
   * @throws RequiredDataUnavailableException when a required key cannot be had
   */
  PatientRecord assemble(
      List<PrefetchTemplate> templates,
      Map<String, KeyData> results,
      String patientId,
      Optional<String> origin,
      Set<String> unusable,
      int foreignSkipped) {
    Patient patient = null;
    int foreign = foreignSkipped;
    List<Resource> resources = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Set<String> unavailable = new LinkedHashSet<>();
    List<KeyOutcome> outcomes = new ArrayList<>();
    for (PrefetchTemplate template : templates) {
      KeyData data = results.get(template.key());
      if (data.source() != Source.UNAVAILABLE && data.resources().size() > maxEntries) {
        // The rules' cost grows faster than linearly with what they match: such a key is not read.
        data =
            KeyData.tooManyEntries(data.resources().size(), maxEntries).withMillis(data.millis());
      }
      boolean fetchedOrTried =
          data.source() == Source.FETCHED || data.source() == Source.UNAVAILABLE;
      outcomes.add(
          new KeyOutcome(
              template.key(),
              data.source(),
              data.resources().size(),
              data.millis(),
              data.reason(),
              fetchedOrTried ? origin.orElse(null) : null,
              data.failure() == null ? null : data.failure().code()));
      if (template.required() && data.source() == Source.UNAVAILABLE) {
        throw new RequiredDataUnavailableException(template.key(), data.reason());
      }
      if (template.required() && template.isRead() && data.resources().isEmpty()) {
        throw new RequiredDataUnavailableException(template.key(), "no data");
      }
      if (data.source() == Source.UNAVAILABLE) {
        unavailable.add(template.key());
        continue;
      }
      for (Resource resource : data.resources()) {
        unusable.addAll(values.check(resource));
        if (resource instanceof Patient p && template.isRead()) {
          patient = p;
        } else if (PatientIdentityGuard.ofAnotherPatient(resource, patientId)) {
          foreign++;
        } else if (!resource.hasIdElement() || seen.add(identity(resource))) {
          resources.add(resource);
        }
      }
    }
    if (foreign > 0) {
      log.warn("ignored {} resources that name another patient as their subject", foreign);
    }
    return new PatientRecord(patient, resources, unavailable, outcomes, unusable);
  }

  private static String identity(Resource resource) {
    return resource.fhirType() + "/" + resource.getIdElement().getIdPart();
  }
}
