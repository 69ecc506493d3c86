package org.backhippain.cds.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * Reads what the EHR prefetched for one key: the JSON tree parsed once by HAPI through the edge
 * step ({@link UsableValues}), checked against the template (resource type, the context patient, a
 * search that has more pages), or the reason it cannot be used so that the key is fetched instead.
 */
final class PrefetchReader {
  private final UsableValues values;

  PrefetchReader(UsableValues values) {
    this.values = values;
  }

  /** A key's prefetch as read: its data, or a first page to read on from, or what is wrong. */
  record Read(KeyData data, Bundle next, String problem, Set<String> dropped) {
    static Read ok(KeyData data, Set<String> dropped) {
      return new Read(data, null, null, dropped);
    }

    static Read problem(String problem) {
      return new Read(null, null, problem, Set.of());
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
    try {
      dropNarratives(object);
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
          KeyData.prefetched(List.of((Resource) resource)), values.dropped(resource, dropped));
    }
    if (!(resource instanceof Bundle bundle)) {
      return Read.problem("prefetch was " + type + ", not a Bundle");
    }
    if (bundle.getLink(Bundle.LINK_NEXT) != null) {
      return new Read(null, bundle, "prefetch search has more pages", Set.of());
    }
    return Read.ok(KeyData.prefetched(entries(template, bundle)), values.dropped(bundle, dropped));
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
