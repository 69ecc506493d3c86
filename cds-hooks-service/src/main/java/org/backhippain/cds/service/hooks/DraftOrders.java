package org.backhippain.cds.service.hooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.backhippain.cds.fhir.UsableValues;
import org.backhippain.cds.service.system.CdsException;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * The order hooks' {@code context.draftOrders}, parsed once with HAPI, and the drafts the rules
 * consider: at order-select those named in {@code selections} (all drafts when it is absent), at
 * order-sign every draft (clinical spec §2). They pass the same edge step as the patient's data
 * ({@link UsableValues}): unusable elements removed and named in {@code unusable}, date-times put
 * into the service's time zone.
 */
record DraftOrders(
    boolean isOrderHook, List<Resource> all, List<Resource> considered, Set<String> unusable) {

  /**
   * @param maxEntries the most drafts read ({@code cds.max-bundle-entries}); more are a 400
   */
  static DraftOrders of(String hook, JsonNode context, UsableValues values, int maxEntries) {
    if (!hook.startsWith("order-")) {
      return new DraftOrders(false, List.of(), List.of(), Set.of());
    }
    List<Resource> all = new ArrayList<>();
    Set<String> unusable = new TreeSet<>();
    JsonNode entries = context.get("draftOrders").get("entry");
    if (entries != null && entries.size() > maxEntries) {
      throw CdsException.badField(
          "context.draftOrders",
          "'context.draftOrders' holds "
              + entries.size()
              + " entries; at most "
              + maxEntries
              + " are read");
    }
    try {
      List<String> dropped = new ArrayList<>();
      // validated as an object whose resourceType is Bundle (HookRequests)
      Bundle bundle = (Bundle) values.parse((ObjectNode) context.get("draftOrders"), dropped);
      unusable.addAll(values.dropped(bundle, dropped));
      for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
        if (entry.getResource() != null) {
          unusable.addAll(values.check(entry.getResource()));
          all.add(entry.getResource());
        }
      }
    } catch (RuntimeException e) {
      // Any failure to read the EHR's Bundle is the request's fault, whatever HAPI throws.
      throw CdsException.badField(
          "context.draftOrders", "'context.draftOrders' is not a valid FHIR Bundle");
    }
    JsonNode selections = context.get("selections");
    if (!"order-select".equals(hook) || selections == null) {
      return new DraftOrders(true, all, all, unusable);
    }
    Set<String> selected = new HashSet<>();
    selections.forEach(s -> selected.add(s.asText()));
    List<Resource> considered = new ArrayList<>();
    for (Resource draft : all) {
      if (selected.contains(draft.fhirType() + "/" + draft.getIdElement().getIdPart())) {
        considered.add(draft);
      }
    }
    return new DraftOrders(true, all, considered, unusable);
  }
}
