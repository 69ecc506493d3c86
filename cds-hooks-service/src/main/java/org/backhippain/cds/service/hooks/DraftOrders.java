package org.backhippain.cds.service.hooks;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.LenientErrorHandler;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.backhippain.cds.fhir.FactDates;
import org.backhippain.cds.service.system.CdsException;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * The order hooks' {@code context.draftOrders}, parsed once with HAPI, and the drafts the rules
 * consider: at order-select those named in {@code selections} (all drafts when it is absent), at
 * order-sign every draft (clinical spec §2). Their date-times are put into the service's time zone
 * as the patient's data is ({@link FactDates}).
 */
record DraftOrders(boolean isOrderHook, List<Resource> all, List<Resource> considered) {

  static DraftOrders of(String hook, JsonNode context, FhirContext fhir, FactDates dates) {
    if (!hook.startsWith("order-")) {
      return new DraftOrders(false, List.of(), List.of());
    }
    List<Resource> all = new ArrayList<>();
    try {
      Bundle bundle =
          fhir.newJsonParser()
              .setParserErrorHandler(new LenientErrorHandler(false))
              .parseResource(Bundle.class, context.get("draftOrders").toString());
      for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
        if (entry.getResource() != null) {
          all.add(dates.normalize(entry.getResource()));
        }
      }
    } catch (RuntimeException e) {
      // Any failure to read the EHR's Bundle is the request's fault, whatever HAPI throws.
      throw CdsException.badRequest("'context.draftOrders' is not a valid FHIR Bundle");
    }
    JsonNode selections = context.get("selections");
    if (!"order-select".equals(hook) || selections == null) {
      return new DraftOrders(true, all, all);
    }
    Set<String> selected = new HashSet<>();
    selections.forEach(s -> selected.add(s.asText()));
    List<Resource> considered = new ArrayList<>();
    for (Resource draft : all) {
      if (selected.contains(draft.fhirType() + "/" + draft.getIdElement().getIdPart())) {
        considered.add(draft);
      }
    }
    return new DraftOrders(true, all, considered);
  }
}
