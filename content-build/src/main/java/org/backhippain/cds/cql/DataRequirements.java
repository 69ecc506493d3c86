package org.backhippain.cds.cql;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.fhir.PrefetchTemplate;
import org.cqframework.cql.elm.requirements.fhir.DataRequirementsProcessor;
import org.hl7.fhir.convertors.factory.VersionConvertorFactory_40_50;
import org.hl7.fhir.r4.model.DataRequirement;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * The data each CQL library reads, as FHIR {@code DataRequirement}s (types, code filters by value
 * set or code, date filters), computed from the ELM by cqframework's {@link
 * DataRequirementsProcessor} at build time and carried by each packaged Library; and the check that
 * the service's prefetch (clinical spec §2, a public contract kept verbatim) brings all of it:
 * every retrieved type in some key, every Observation code filter within the {@code observations}
 * key's codes.
 */
public final class DataRequirements {
  static final String OBSERVATIONS = "observations";

  /**
   * A data requirement's FHIR query (a core extension): a CPG engine's CDS Hooks discovery (HAPI
   * FHIR's) lists these as the service's prefetch instead of building queries from the code
   * filters, which for our value sets run to thousands of codes in one URL.
   */
  static final String QUERY_PATTERN =
      "http://hl7.org/fhir/StructureDefinition/cqf-fhirQueryPattern";

  private DataRequirements() {}

  /**
   * Every library's data requirements, its includes' with it, by library name. Needs a translation
   * (annotations and result types), not precompiled ELM.
   */
  static Map<String, List<DataRequirement>> gather(
      ContentPackage content, CqlCompilation compilation) {
    Map<String, List<DataRequirement>> out = new LinkedHashMap<>();
    for (ContentPackage.CqlSource source : content.cql().values()) {
      var r5 =
          new DataRequirementsProcessor()
              .gatherDataRequirements(
                  compilation.libraryManager(),
                  compilation.compiled(source),
                  CqlCompilation.options().withCollapseDataRequirements(true),
                  null,
                  false,
                  true);
      var r4 = (org.hl7.fhir.r4.model.Library) VersionConvertorFactory_40_50.convertResource(r5);
      List<DataRequirement> distinct = new ArrayList<>();
      for (DataRequirement r : r4.getDataRequirement()) {
        if (distinct.stream().noneMatch(d -> d.equalsDeep(r))) {
          distinct.add(r);
        }
      }
      out.put(source.name(), List.copyOf(distinct));
    }
    return out;
  }

  /**
   * Names on each data requirement the prefetch queries of spec §2 that bring its type ({@link
   * #QUERY_PATTERN}), verbatim.
   */
  static void addQueryPatterns(
      Map<String, List<DataRequirement>> requirements, Map<String, PrefetchTemplate> prefetch) {
    requirements.values().stream()
        .flatMap(List::stream)
        .forEach(
            r ->
                prefetch.values().stream()
                    .filter(t -> t.accepts(r.getType()))
                    .forEach(
                        t ->
                            r.addExtension(
                                QUERY_PATTERN, new org.hl7.fhir.r4.model.StringType(t.query()))));
  }

  /** The prefetch templates of the content's services ({@code cds-services.json}), by key. */
  static Map<String, PrefetchTemplate> prefetch(ContentPackage content) {
    return PrefetchKeys.of(content).templates();
  }

  /** The {@code system|code} pairs of the {@code observations} key's {@code code} parameter. */
  static Set<String> observationCodes(Map<String, PrefetchTemplate> prefetch) {
    PrefetchTemplate observations = prefetch.get(OBSERVATIONS);
    Set<String> codes = new LinkedHashSet<>();
    if (observations == null) {
      return codes;
    }
    for (String param :
        observations.query().substring(observations.query().indexOf('?') + 1).split("&")) {
      if (param.startsWith("code=")) {
        for (String code : param.substring("code=".length()).split(",")) {
          codes.add(code);
        }
      }
    }
    return codes;
  }

  /** The prefetch keys that bring a resource type. */
  static List<String> keysFor(Map<String, PrefetchTemplate> prefetch, String type) {
    return PrefetchKeys.of(prefetch).keysFor(type);
  }

  /**
   * Every data requirement the prefetch does not cover; empty when it covers them all.
   *
   * @param requirements by library name
   */
  static List<String> coverageProblems(
      ContentPackage content, Map<String, List<DataRequirement>> requirements) {
    return coverageProblems(prefetch(content), content.valueSets(), requirements);
  }

  static List<String> coverageProblems(
      Map<String, PrefetchTemplate> prefetch,
      List<ValueSet> valueSets,
      Map<String, List<DataRequirement>> requirements) {
    Set<String> observationCodes = observationCodes(prefetch);
    List<String> problems = new ArrayList<>();
    requirements.forEach(
        (library, list) -> {
          for (DataRequirement r : list) {
            String type = r.getType();
            if (keysFor(prefetch, type).isEmpty()) {
              problems.add(library + ": reads " + type + ", which no prefetch key brings");
              continue;
            }
            if (!"Observation".equals(type)) {
              continue;
            }
            List<DataRequirement.DataRequirementCodeFilterComponent> codeFilters =
                r.getCodeFilter().stream().filter(f -> "code".equals(f.getPath())).toList();
            if (codeFilters.isEmpty()) {
              problems.add(
                  library
                      + ": reads Observations of any code; the "
                      + OBSERVATIONS
                      + " key brings only "
                      + observationCodes);
            }
            for (var filter : codeFilters) {
              for (String code : codes(valueSets, filter)) {
                if (!observationCodes.contains(code)) {
                  problems.add(
                      library
                          + ": reads Observations coded "
                          + code
                          + ", which the "
                          + OBSERVATIONS
                          + " key does not ask for");
                }
              }
            }
          }
        });
    return problems.stream().distinct().toList();
  }

  /**
   * The {@code system|code} pairs a code filter allows: its codes, or its value set's expansion.
   */
  static List<String> codes(
      List<ValueSet> valueSets, DataRequirement.DataRequirementCodeFilterComponent filter) {
    List<String> codes = new ArrayList<>();
    filter.getCode().forEach(c -> codes.add(c.getSystem() + "|" + c.getCode()));
    if (filter.hasValueSet()) {
      ValueSet vs =
          valueSets.stream()
              .filter(v -> v.getUrl().equals(filter.getValueSet()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "value set not in content: " + filter.getValueSet()));
      vs.getExpansion().getContains().forEach(c -> codes.add(c.getSystem() + "|" + c.getCode()));
    }
    return codes;
  }
}
