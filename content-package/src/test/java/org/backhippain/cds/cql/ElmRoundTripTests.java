package org.backhippain.cds.cql;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ELM JSON the package carries loads back exactly: it is what the translator makes of the CQL
 * beside it, reading it and writing it again gives the same text, and an engine started from it
 * gives every case the same results, values included, as one that translates the CQL.
 */
class ElmRoundTripTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static ContentPackage content;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FHIR);
  }

  @Test
  void everyLibraryCarriesElmAndTheEngineStartsFromIt() {
    assertThat(content.elm().keySet())
        .containsAll(content.cql().keySet())
        .contains(ContentPackage.FHIR_HELPERS);
    assertThat(content.elm()).hasSize(content.cql().size() + 1);
    assertThat(CqlCompilation.of(content).precompiled()).isTrue();
    assertThat(CqlCompilation.of(content.withoutElm()).precompiled()).isFalse();
  }

  @Test
  void theStoredElmIsTheTranslationOfTheStoredCql() {
    CqlCompilation translated = CqlCompilation.translate(content);
    assertThat(translated.problems()).isEmpty();
    Map<String, String> fresh = new java.util.TreeMap<>();
    translated
        .libraryManager()
        .getCompiledLibraries()
        .forEach((id, compiled) -> fresh.put(id.getId(), CqlCompilation.elmJson(compiled)));
    assertThat(fresh).isEqualTo(new java.util.TreeMap<>(content.elm()));
  }

  @Test
  void readingTheElmAndWritingItAgainGivesTheSameText() {
    CqlCompilation loaded = CqlCompilation.fromElm(content);
    loaded
        .libraryManager()
        .getCompiledLibraries()
        .forEach(
            (id, compiled) ->
                assertThat(CqlCompilation.elmJson(compiled))
                    .as(id.getId())
                    .isEqualTo(content.elm().get(id.getId())));
    assertThat(loaded.libraryManager().getCompiledLibraries()).hasSize(content.elm().size());
  }

  @Test
  void fromElmAndFromCqlEveryCaseGetsTheSameResults() {
    RuleEngine fromElm = RuleEngine.start(content, FHIR, Map.of());
    RuleEngine fromCql = RuleEngine.start(content.withoutElm(), FHIR, Map.of());
    int compared = 0;
    List<String> applicable = new ArrayList<>();
    for (ContentCase c : ContentCase.all(content, FHIR)) {
      EvaluationInput input =
          new EvaluationInput(
              c.record(), c.hook(), RuleEngineTests.now(c), c.consideredDrafts(), c.allDrafts());
      Map<String, RuleResult> b = new java.util.HashMap<>();
      fromCql.evaluate(input).forEach(r -> b.put(r.rule().ruleId(), r));
      List<RuleResult> a = fromElm.evaluate(input);
      assertThat(a).hasSameSizeAs(b.values());
      for (RuleResult elm : a) {
        String where = c.id() + " " + elm.rule().ruleId();
        RuleResult cql = b.get(elm.rule().ruleId());
        assertThat(cql).as(where).isNotNull();
        assertThat(elm.applicable()).as(where).isEqualTo(cql.applicable());
        assertThat(elm.card()).as(where).isEqualTo(cql.card());
        assertThat(elm.expressions()).as(where).isEqualTo(cql.expressions());
        assertThat(elm.error()).as(where).isEqualTo(cql.error());
        if (elm.applicable()) applicable.add(where);
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(1000);
    assertThat(applicable).hasSizeGreaterThan(50);
  }
}
