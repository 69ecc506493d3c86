package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.fhir.PrefetchTemplate;
import org.hl7.fhir.r4.model.DataRequirement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every packaged Library carries the data its CQL reads (computed from the ELM at build time), and
 * the build fails when the service's prefetch (clinical spec §2, kept verbatim) does not bring it.
 */
class DataRequirementsTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static ContentPackage content;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FHIR);
  }

  @Test
  void everyRuleLibraryCarriesItsDataRequirements() {
    for (RuleDefinition rule : RuleCatalog.of(content).rules()) {
      assertThat(content.dataRequirements().get(rule.libraryName()))
          .as(rule.libraryName())
          .anyMatch(
              r ->
                  r.getType().equals("Condition")
                      && r.getCodeFilter().stream()
                          .anyMatch(
                              f ->
                                  f.getValueSet()
                                      .equals(
                                          ContentPackage.CANONICAL_BASE
                                              + "/ValueSet/back-hip-pain")));
    }
    assertThat(content.dataRequirements().get("SmokingCessation"))
        .anyMatch(
            r ->
                r.getType().equals("Observation") && codes(r).contains("http://loinc.org|72166-2"));
    assertThat(content.dataRequirements().get("PtReferral"))
        .extracting(DataRequirement::getType)
        .contains("ServiceRequest", "Procedure", "Coverage");
  }

  /** A CPG engine's discovery lists these queries: the prefetch of spec §2, verbatim. */
  @Test
  void everyRequirementNamesThePrefetchQueriesThatBringIt() {
    var queries =
        DataRequirements.prefetch(content).values().stream().map(PrefetchTemplate::query).toList();
    content
        .dataRequirements()
        .forEach(
            (library, list) ->
                list.forEach(
                    r ->
                        assertThat(r.getExtensionsByUrl(DataRequirements.QUERY_PATTERN))
                            .as(library + " " + r.getType())
                            .isNotEmpty()
                            .allSatisfy(
                                e -> assertThat(queries).contains(e.getValue().primitiveValue()))));
    assertThat(content.dataRequirements().get("SmokingCessation"))
        .filteredOn(r -> r.getType().equals("Observation"))
        .allSatisfy(
            r ->
                assertThat(
                        r.getExtensionByUrl(DataRequirements.QUERY_PATTERN)
                            .getValue()
                            .primitiveValue())
                    .startsWith(
                        "Observation?patient={{context.patientId}}&code=http://loinc.org|72514-3,"));
  }

  @Test
  void theServicesPrefetchBringsEverything() {
    assertThat(DataRequirements.coverageProblems(content, content.dataRequirements())).isEmpty();
  }

  /** The check bites: a key without a code the CQL reads, a type no key brings, any-code reads. */
  @Test
  void whatThePrefetchDoesNotBringFailsTheBuild() {
    Map<String, PrefetchTemplate> prefetch =
        new LinkedHashMap<>(DataRequirements.prefetch(content));
    PrefetchTemplate observations = prefetch.get("observations");
    prefetch.put(
        "observations",
        PrefetchTemplate.of(
            "observations", observations.query().replace("http://loinc.org|72166-2,", ""), false));
    Map<String, List<DataRequirement>> requirements =
        new LinkedHashMap<>(content.dataRequirements());
    requirements.put(
        "Extra",
        List.of(
            new DataRequirement().setType("Encounter"),
            new DataRequirement().setType("Observation")));

    List<String> problems =
        DataRequirements.coverageProblems(prefetch, content.valueSets(), requirements);
    assertThat(problems)
        .anyMatch(p -> p.startsWith("SmokingCessation: ") && p.contains("http://loinc.org|72166-2"))
        .anyMatch(p -> p.equals("Extra: reads Encounter, which no prefetch key brings"))
        .anyMatch(p -> p.startsWith("Extra: reads Observations of any code"));
    assertThatThrownBy(() -> CqlCheck.failOn(problems)).hasMessageContaining("content problem(s)");
  }

  @Test
  void aCodeFilterByValueSetMeansItsExpansion() {
    var filter =
        new DataRequirement.DataRequirementCodeFilterComponent()
            .setPath("code")
            .setValueSet(ContentPackage.CANONICAL_BASE + "/ValueSet/current-smoker");
    assertThat(DataRequirements.codes(content.valueSets(), filter))
        .contains("http://snomed.info/sct|449868002");
  }

  private static List<String> codes(DataRequirement r) {
    return r.getCodeFilter().stream()
        .flatMap(f -> f.getCode().stream())
        .map(c -> c.getSystem() + "|" + c.getCode())
        .toList();
  }
}
