package org.backhippain.cds.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * Reads what the EHR prefetched for one key: the entries of a search that no rule reads skipped
 * ({@link ResourceSelection}), the rest of the JSON tree parsed once by HAPI through the edge step
 * ({@link UsableValues}), checked against the template (resource type, the context patient, a
 * search that has more pages), or the reason it cannot be used so that the key is fetched instead.
 */
final class PrefetchReader {
  private final UsableValues values;
  private final ResourceSelection selection;

  PrefetchReader(UsableValues values, ResourceSelection selection) {
    this.values = values;
    this.selection = selection;
  }

  /**
   * A key's prefetch as read: its data, or a first page to read on from, or what is wrong.
   *
   * @param foreignSkipped skipped entries that named another patient (see {@link
   *     PatientIdentityGuard})
   */
  record Read(KeyData data, Bundle next, String problem, Set<String> dropped, int foreignSkipped) {
    static Read ok(KeyData data, Set<String> dropped, int foreignSkipped) {
      return new Read(data, null, null, dropped, foreignSkipped);
    }

    static Read problem(String problem) {
      return new Read(null, null, problem, Set.of(), 0);
    }

    /** True when the prefetch answers the key completely. */
    boolean complete() {
      return data != null && next == null;
    }
  }

  Read read(PrefetchTemplate template, JsonNode json, String patientId) {
    if (!(json instanceof ObjectNode object)) {
      return Read.problem("prefetch not a JSON object");
    }
    IBaseResource resource;
    List<String> dropped = new ArrayList<>();
    int foreignSkipped = 0;
    try {
      dropNarratives(object);
      if (!template.isRead()) {
        foreignSkipped = skipUnread(object, patientId);
      }
      resource = values.parse(object, dropped);
    } catch (RuntimeException e) {
      // HAPI signals malformed input with several exception types; all mean "not usable".
      return Read.problem("prefetch not parseable FHIR");
    }
    String type = resource.fhirType();
    if ("OperationOutcome".equals(type)) {
      return Read.problem("prefetch was an OperationOutcome");
    }
    if (template.isRead()) {
      if (!template.accepts(type)) {
        return Read.problem("prefetch was " + type);
      }
      if (resource instanceof Patient p
          && patientId != null
          && !patientId.equals(p.getIdElement().getIdPart())) {
        return Read.problem("prefetch was another patient");
      }
      return Read.ok(
          KeyData.prefetched(List.of((Resource) resource)), values.dropped(resource, dropped), 0);
    }
    if (!(resource instanceof Bundle bundle)) {
      return Read.problem("prefetch was " + type + ", not a Bundle");
    }
    if (bundle.getLink(Bundle.LINK_NEXT) != null) {
      return new Read(null, bundle, "prefetch search has more pages", Set.of(), foreignSkipped);
    }
    return Read.ok(
        KeyData.prefetched(entries(template, bundle)),
        values.dropped(bundle, dropped),
        foreignSkipped);
  }

  /**
   * Removes from a search's JSON tree the entries no rule reads, before HAPI parses it: an entry is
   * kept when its type is read whatever its code, or a coding of its {@code code} can match a
   * retrieve, or it is a Medication that a kept MedicationRequest names (its contained resources
   * travel inside it). Only {@code resourceType}, {@code id}, {@code code.coding}, the medication
   * reference and the patient references are read; what is kept is parsed by HAPI as before.
   *
   * @return how many skipped entries named another patient (the identity guard sees every entry)
   */
  int skipUnread(ObjectNode bundle, String patientId) {
    if (selection == ResourceSelection.EVERY
        || !(bundle.get("entry") instanceof ArrayNode entries)) {
      return 0;
    }
    boolean[] keep = new boolean[entries.size()];
    Set<String> namedMedications = new HashSet<>();
    for (int i = 0; i < keep.length; i++) {
      JsonNode resource = entries.get(i).get("resource");
      String type = resource == null ? null : resource.path("resourceType").textValue();
      // What cannot be judged here (no resource, no type) is left for HAPI and the template.
      keep[i] = type == null || selection.readsEvery(type) || coded(type, resource);
      if (keep[i] && "MedicationRequest".equals(type)) {
        String reference = resource.path("medicationReference").path("reference").textValue();
        if (reference != null && !reference.startsWith("#")) {
          namedMedications.add(new IdType(reference).getIdPart());
        }
      }
    }
    int foreign = 0;
    for (int i = keep.length - 1; i >= 0; i--) {
      JsonNode resource = entries.get(i).get("resource");
      if (keep[i]
          || ("Medication".equals(resource.path("resourceType").textValue())
              && namedMedications.contains(resource.path("id").textValue()))) {
        continue;
      }
      if (PatientIdentityGuard.namesAnotherPatient(resource, patientId)) {
        foreign++;
      }
      entries.remove(i);
    }
    return foreign;
  }

  private boolean coded(String type, JsonNode resource) {
    for (JsonNode coding : resource.path("code").path("coding")) {
      String code = coding.path("code").textValue();
      if (code != null && selection.reads(type, coding.path("system").textValue(), code.strip())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Drops the narrative ({@code text}) of a prefetched resource and of a searchset's entries before
   * HAPI reads them: no rule reads narrative, and parsing its XHTML took about a third of the parse
   * time of a Synthea prefetch.
   */
  private static void dropNarratives(ObjectNode resource) {
    resource.remove("text");
    JsonNode entries = resource.get("entry");
    if (entries != null && entries.isArray()) {
      for (JsonNode entry : entries) {
        if (entry.get("resource") instanceof ObjectNode entryResource) {
          entryResource.remove("text");
        }
      }
    }
  }

  /** A search page's resources of the template's types (an OperationOutcome entry is not one). */
  static List<Resource> entries(PrefetchTemplate template, Bundle bundle) {
    List<Resource> out = new ArrayList<>();
    for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
      Resource resource = entry.getResource();
      if (resource != null && template.accepts(resource.fhirType())) {
        out.add(resource);
      }
    }
    return out;
  }
}
