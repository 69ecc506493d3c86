package org.backhippain.cds.service.discovery;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.fhir.PrefetchTemplate;

/**
 * One CDS service as discovery publishes it (CDS Hooks §Discovery), read from the content's {@code
 * cds-services.json}. The prefetch templates double as the fetch plan for what the EHR did not
 * send.
 */
public record CdsService(
    String hook,
    String title,
    String description,
    String id,
    Map<String, String> prefetch,
    String usageRequirements) {

  public CdsService {
    prefetch = prefetch == null ? Map.of() : new LinkedHashMap<>(prefetch);
  }

  /** The fetch plan: one template per prefetch key, required where the content says so. */
  public List<PrefetchTemplate> templates(List<String> required) {
    return prefetch.entrySet().stream()
        .map(e -> PrefetchTemplate.of(e.getKey(), e.getValue(), required.contains(e.getKey())))
        .toList();
  }
}
