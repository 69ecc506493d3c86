package org.backhippain.cds.terminology;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.ContentTerminology;
import org.hl7.fhir.r4.model.ConceptMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every RxNorm code Synthea 3.3.0 can emit (test data: synthea-3.3.0-rxnorm.tsv, labelled by hand
 * from the names) lands in the class the clinical spec gives it, as the service sees it (the
 * package's value sets through {@link ContentTerminology}); the product table knows a fentanyl
 * patch for what it is.
 */
class SyntheaClassificationTests {
  static final String RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm";
  static final String BASE = ContentPackage.CANONICAL_BASE + "/ValueSet/";
  static ContentPackage content;
  static ContentTerminology terminology;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FhirContext.forR4Cached());
    terminology = new ContentTerminology(content);
  }

  record Row(String code, String via, Set<String> expected, String display) {}

  static List<Row> rows() throws IOException {
    List<Row> rows = new ArrayList<>();
    try (InputStream in =
        SyntheaClassificationTests.class.getResourceAsStream("/synthea-3.3.0-rxnorm.tsv")) {
      String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
      for (String line : lines) {
        if (line.startsWith("#") || line.startsWith("code\t") || line.isBlank()) {
          continue;
        }
        String[] f = line.split("\t", 4);
        Set<String> expected = new LinkedHashSet<>();
        for (String e : f[2].split(",")) {
          if (!e.equals("-") && !e.equals("not-a-class-corticosteroid")) {
            expected.add(e);
          }
        }
        rows.add(new Row(f[0], f[1], expected, f[3]));
      }
    }
    return rows;
  }

  static Set<String> classes(String code) {
    Set<String> out = new LinkedHashSet<>();
    if (in("opioids", code)) out.add("opioid");
    if (in("nsaids", code)) out.add("nsaid");
    if (in("acetaminophen", code)) out.add("acetaminophen");
    if (in("corticosteroids", code)) {
      out.add(
          in("non-systemic-forms", code)
              ? "non-systemic-corticosteroid"
              : "systemic-corticosteroid");
    }
    return out;
  }

  static boolean in(String valueSet, String code) {
    return terminology.contains(BASE + valueSet, RXNORM, code);
  }

  @Test
  void everyCodeSyntheaEmitsIsInTheClassTheSpecGivesIt() throws IOException {
    List<Row> rows = rows();
    assertThat(rows).hasSize(478);
    List<String> wrong = new ArrayList<>();
    for (Row row : rows) {
      Set<String> actual = classes(row.code());
      if (!actual.equals(row.expected())) {
        wrong.add(
            row.code() + " " + row.display() + ": expected " + row.expected() + ", is " + actual);
      }
    }
    assertThat(wrong).isEmpty();
  }

  @Test
  void theCohortsOpioidNsaidAndAcetaminophenCodesAreInTheirClassesAndItsSteroidsAreNotSystemic() {
    List.of(
            "245134", "856987", "835603", "1860491", "993770", "1049625", "1049221", "1049504",
            "861467", "857005", "1735006")
        .forEach(c -> assertThat(in("opioids", c)).as(c).isTrue());
    List.of("206905", "849574", "310965", "198405")
        .forEach(c -> assertThat(in("nsaids", c)).as(c).isTrue());
    List.of(
            "209387", "313782", "856987", "993770", "313820", "1043400", "1049625", "1049221",
            "857005", "198440")
        .forEach(c -> assertThat(in("acetaminophen", c)).as(c).isTrue());
    // inhaled and topical steroids of the cohort: none is a systemic corticosteroid
    for (String c : List.of("896001", "351109", "106258", "896209")) {
      assertThat(in("corticosteroids", c) && !in("non-systemic-forms", c)).as(c).isFalse();
    }
    assertThat(in("non-systemic-forms", "106258")).isTrue();
    // sufentanil (reached through medicationReference) is not on the §6h list; aspirin no trial
    assertThat(in("opioids", "1809104")).isFalse();
    assertThat(in("nsaids", "243670")).isFalse();
  }

  @Test
  void aFentanylPatchIsAnOpioidNotMorphineAndIngredientCodesKeepWorking() {
    ConceptMap map =
        content.conceptMaps().stream()
            .filter(m -> m.getUrl().endsWith("/rxnorm-product-ingredient"))
            .findFirst()
            .orElseThrow();
    for (String patch : List.of("197696", "245134")) {
      var ingredients = element(map, 0, patch);
      assertThat(ingredients.getTarget()).extracting(t -> t.getCode()).containsExactly("4337");
      assertThat(element(map, 1, patch).getTargetFirstRep().getCode()).isEqualTo("transdermal");
      assertThat(in("opioids", patch)).isTrue();
    }
    assertThat(element(map, 0, "312614").getTargetFirstRep().getDisplay())
        .isEqualTo("prednisolone");
    assertThat(element(map, 0, "857005").getDisplay()).contains("7.5 MG");
    for (String ingredient : List.of("8640", "6902", "3264", "1514", "10759")) {
      assertThat(in("corticosteroids", ingredient)).as(ingredient).isTrue();
    }
    assertThat(in("opioids", "7052")).isTrue();
    assertThat(in("opioids", "1819")).isFalse();
    assertThat(in("nsaids", "1191")).isFalse();
  }

  private static ConceptMap.SourceElementComponent element(ConceptMap map, int group, String code) {
    return map.getGroup().get(group).getElement().stream()
        .filter(e -> e.getCode().equals(code))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no product row " + code));
  }
}
