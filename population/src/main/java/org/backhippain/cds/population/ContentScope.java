package org.backhippain.cds.population;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.fhir.PrefetchTemplate;

/**
 * What of an export the run reads, decided by the content: the resource types of the patient-view
 * service's prefetch templates ({@code cds-services.json}, with their {@code _include}s), the
 * Observation codes of its {@code observations} query and the Coverage statuses of its {@code
 * coverage} query (filters applied before grouping, as the EHR applies them to a prefetch), plus
 * Encounter and Organization for the by-organisation view. Everything else is not read.
 *
 * @param keyTypes by prefetch key, the resource types it brings
 * @param observationCodes {@code system|code} of the observations query
 * @param coverageStatuses statuses of the coverage query (empty: any)
 * @param knownTypes every FHIR R4 resource type (a line of any other type is bad input)
 */
record ContentScope(
    Map<String, List<String>> keyTypes,
    Set<String> observationCodes,
    Set<String> coverageStatuses,
    Set<String> knownTypes)
    implements Serializable {
  static final String PATIENT_VIEW = "patient-view";

  /** Read for the by-organisation view only (never given to the rules). */
  static final List<String> ORGANISATION_TYPES = List.of("Encounter", "Organization");

  static ContentScope of(ContentPackage content, FhirContext fhir) {
    JsonNode services;
    try {
      services = new ObjectMapper().readTree(content.file("cds-services.json").orElseThrow());
    } catch (IOException e) {
      throw new UncheckedIOException("content cds-services.json is not valid", e);
    }
    Map<String, List<String>> keyTypes = new LinkedHashMap<>();
    Set<String> codes = new LinkedHashSet<>();
    Set<String> statuses = new LinkedHashSet<>();
    for (JsonNode service : services.path("services")) {
      if (!PATIENT_VIEW.equals(service.path("hook").asText())) {
        continue;
      }
      service
          .path("prefetch")
          .fields()
          .forEachRemaining(
              e -> {
                PrefetchTemplate template =
                    PrefetchTemplate.of(e.getKey(), e.getValue().asText(), false);
                Set<String> types = new LinkedHashSet<>();
                types.add(template.resourceType());
                types.addAll(template.alsoAccepted());
                keyTypes.put(template.key(), List.copyOf(types));
                Map<String, List<String>> params = parameters(template.query());
                if (template.accepts("Observation")) {
                  codes.addAll(params.getOrDefault("code", List.of()));
                }
                if (template.accepts("Coverage")) {
                  statuses.addAll(params.getOrDefault("status", List.of()));
                }
              });
    }
    if (keyTypes.isEmpty()) {
      throw new IllegalStateException("content has no patient-view service");
    }
    return new ContentScope(
        Map.copyOf(keyTypes),
        Set.copyOf(codes),
        Set.copyOf(statuses),
        Set.copyOf(fhir.getResourceTypes()));
  }

  /** The search parameters of a template's query; comma-separated values split. */
  static Map<String, List<String>> parameters(String query) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    int q = query.indexOf('?');
    if (q < 0) {
      return params;
    }
    for (String pair : query.substring(q + 1).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        params.put(pair.substring(0, eq), List.of(pair.substring(eq + 1).split(",")));
      }
    }
    return params;
  }

  /** The types the rules read (those of the prefetch keys). */
  Set<String> ruleTypes() {
    Set<String> types = new LinkedHashSet<>();
    keyTypes.values().forEach(types::addAll);
    return types;
  }

  /** Every type the run reads: the rules' and the organisation view's. */
  Set<String> readTypes() {
    Set<String> types = ruleTypes();
    types.addAll(ORGANISATION_TYPES);
    return types;
  }

  /** The prefetch keys none of whose types is in {@code present}: unavailable to the rules. */
  Set<String> unavailableKeys(Set<String> present) {
    Set<String> keys = new LinkedHashSet<>();
    keyTypes.forEach(
        (key, types) -> {
          if (types.stream().noneMatch(present::contains)) {
            keys.add(key);
          }
        });
    return keys;
  }
}
