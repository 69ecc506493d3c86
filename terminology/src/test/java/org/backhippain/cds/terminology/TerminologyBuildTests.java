package org.backhippain.cds.terminology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.Test;

/**
 * The committed content is what the terminology build writes, every ICD-10-CM code it uses exists
 * in the table, and the source files are the ones SHA256SUMS names.
 */
class TerminologyBuildTests {

  @Test
  void theCommittedValueSetsConceptMapAndReportAreWhatTheBuildWrites() throws Exception {
    Map<String, String> committed = Built.build().currentFiles();
    Map<String, String> built = Built.files();
    assertThat(committed.keySet()).isEqualTo(built.keySet());
    for (var f : built.entrySet()) {
      assertThat(committed.get(f.getKey()))
          .as(f.getKey() + " (run: mvn -B -q -pl terminology -am compile exec:java@valuesets)")
          .isEqualTo(f.getValue());
    }
  }

  @Test
  void everyIcd10cmCodeTheComposesUseIsInTheTable() {
    List<String> missing = new ArrayList<>();
    for (ValueSet vs : Built.build().valueSets().values()) {
      for (var set : concat(vs.getCompose().getInclude(), vs.getCompose().getExclude())) {
        if (!Icd10cm.SYSTEM.equals(set.getSystem())) {
          continue;
        }
        set.getFilter().stream()
            .filter(f -> Built.build().icd.find(f.getValue()) == null)
            .forEach(f -> missing.add(vs.getId() + " is-a " + f.getValue()));
        set.getConcept().stream()
            .filter(c -> Built.build().icd.find(c.getCode()) == null)
            .forEach(c -> missing.add(vs.getId() + " " + c.getCode()));
      }
    }
    assertThat(missing).isEmpty();
  }

  @Test
  void headersAreListedAsAbstractAndLeavesAreNot() {
    ValueSet back = Built.build().valueSets().get(TerminologyBuild.BASE + "/ValueSet/back-pain");
    var m545 = contains(back, "M54.5");
    assertThat(m545.getAbstract()).as("M54.5 is a header since FY2022").isTrue();
    assertThat(contains(back, "M54.50").getAbstract()).isFalse();
    assertThat(m545.getVersion()).isEqualTo("2026");
    ValueSet cancer = Built.build().valueSets().get(TerminologyBuild.BASE + "/ValueSet/cancer");
    assertThat(contains(cancer, "C7B").getAbstract()).isTrue();
    assertThat(contains(cancer, "C7B.03").getAbstract()).isFalse();
  }

  @Test
  void cancerIsC00ToC96WithTheLetterCategoriesWithoutC44AndReportsWhatTheSourcesAddedBeyond() {
    ValueSet cancer = Built.build().valueSets().get(TerminologyBuild.BASE + "/ValueSet/cancer");
    List<String> roots =
        cancer.getCompose().getInclude().stream()
            .flatMap(i -> i.getFilter().stream())
            .map(ValueSet.ConceptSetFilterComponent::getValue)
            .toList();
    assertThat(roots)
        .contains("C00", "C4A", "C7A", "C7B", "C96", "Z85")
        .doesNotContain("C44", "C97", "D03");
    assertThat(cancer.getExpansion().getContains())
        .noneMatch(c -> c.getCode().startsWith("C44") || c.getCode().equals("Z85.828"));
    String report = Built.files().get(TerminologyBuild.REPORT);
    assertThat(report)
        .contains("outside the clinical spec definition: C44")
        .contains("outside the clinical spec definition: D37")
        .contains("non-melanoma skin cancer");
  }

  @Test
  void theSourcesAreTheFilesSha256sumsNames() throws Exception {
    Path dir = Built.ROOT.resolve("terminology/sources");
    Map<String, String> listed = new java.util.TreeMap<>();
    for (String line : Files.readAllLines(dir.resolve(Checksums.FILE))) {
      listed.put(line.substring(66), line.substring(0, 64));
    }
    assertThat(Checksums.of(dir)).isEqualTo(listed);
    for (String f : listed.keySet()) {
      assertThat(Files.size(dir.resolve(f))).as(f + " stays under 2 MB").isLessThan(2_000_000);
    }
  }

  static ValueSet.ValueSetExpansionContainsComponent contains(ValueSet vs, String code) {
    return vs.getExpansion().getContains().stream()
        .filter(c -> c.getCode().equals(code))
        .findFirst()
        .orElseThrow(() -> new AssertionError(vs.getId() + " does not list " + code));
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
