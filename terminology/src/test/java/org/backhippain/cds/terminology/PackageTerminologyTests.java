package org.backhippain.cds.terminology;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.context.support.ValueSetExpansionOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.ContentTerminology;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.ValueSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FHIR package the service runs from, against the ICD-10-CM table: run-time membership (the
 * service's {@link ContentTerminology}, hierarchical from the compose's is-a roots) agrees with the
 * shipped expansion on every code of the table; and a plain HAPI in-memory terminology service
 * expands every compose to the codes the package lists.
 */
class PackageTerminologyTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static ContentPackage content;
  static ContentTerminology runtime;
  static Icd10cm icd;

  @BeforeAll
  static void load() {
    content = ContentPackage.load(FHIR);
    runtime = new ContentTerminology(content);
    icd =
        Icd10cm.load(
            Built.ROOT.resolve("terminology/sources/icd10cm/icd10cm-codes.tsv.gz"), "2026");
  }

  @Test
  void runTimeMembershipAndTheExpansionAgreeOnEveryCodeOfTheTable() {
    List<String> disagreements = new ArrayList<>();
    int sets = 0;
    for (ValueSet vs : content.valueSets()) {
      Set<String> listed =
          vs.getExpansion().getContains().stream()
              .filter(c -> Icd10cm.SYSTEM.equals(c.getSystem()))
              .map(c -> Icd10cm.undotted(c.getCode()))
              .collect(Collectors.toSet());
      if (listed.isEmpty()) {
        continue;
      }
      sets++;
      for (Icd10cm.Code code : icd.codes()) {
        boolean member = runtime.contains(vs.getUrl(), Icd10cm.SYSTEM, code.code());
        if (member != listed.contains(Icd10cm.undotted(code.code()))) {
          disagreements.add(
              vs.getId() + " " + code.code() + (member ? " matches" : " does not match"));
        }
      }
    }
    assertThat(sets).isGreaterThanOrEqualTo(18);
    assertThat(disagreements).isEmpty();
  }

  @Test
  void codesNewerThanTheTableAndRetiredOnesStillMatchByHierarchy() {
    String base = ContentPackage.CANONICAL_BASE + "/ValueSet/";
    // not in FY2026: a later child of C50.91- and of M16.1; a retired header in old data
    assertThat(runtime.contains(base + "cancer", Icd10cm.SYSTEM, "C50.9199")).isTrue();
    assertThat(runtime.contains(base + "hip-pain", Icd10cm.SYSTEM, "M16.19")).isTrue();
    assertThat(runtime.contains(base + "back-pain", Icd10cm.SYSTEM, "M54.5")).isTrue();
    assertThat(runtime.contains(base + "back-pain", Icd10cm.SYSTEM, "M545")).isTrue();
    assertThat(runtime.contains(base + "back-hip-pain", Icd10cm.SYSTEM, "m16.9")).isTrue();
    // excluded roots stay excluded below themselves
    assertThat(runtime.contains(base + "cancer", Icd10cm.SYSTEM, "C44.99")).isFalse();
    assertThat(runtime.contains(base + "cancer", Icd10cm.SYSTEM, "Z85.8281")).isFalse();
    assertThat(runtime.contains(base + "cancer", Icd10cm.SYSTEM, "Z85.3")).isTrue();
  }

  /**
   * HAPI's {@link InMemoryTerminologyServerValidationSupport} in a {@link ValidationSupportChain}
   * with the package's CodeSystems and ValueSets and the ICD-10-CM table expands each compose
   * (expansion removed) to exactly the codes the package lists. HAPI's defaults are set: count
   * above any set's size, a missing code system fails. The table is given as the chapters (first
   * letters) the compose names: HAPI 8.8 indexes the whole CodeSystem once per include (about 1.3 s
   * for each of the cancer set's 91 includes over 98,186 codes), and no ICD-10-CM code has an
   * ancestor outside its own letter.
   */
  @Test
  void aPlainHapiInMemoryTerminologyServiceExpandsEveryComposeToTheSameCodes() {
    CodeSystem table = icd.codeSystem();
    List<String> problems = new ArrayList<>();
    for (ValueSet shipped : content.valueSets()) {
      ValueSet compose = shipped.copy();
      compose.setExpansion(null);
      PrePopulatedValidationSupport known = new PrePopulatedValidationSupport(FHIR);
      content.codeSystems().forEach(known::addCodeSystem);
      content.valueSets().forEach(known::addValueSet);
      Set<String> letters = letters(shipped);
      if (!letters.isEmpty()) {
        CodeSystem chapters = table.copy();
        chapters.getConcept().removeIf(c -> !letters.contains(c.getCode().substring(0, 1)));
        known.addCodeSystem(chapters);
      }
      ValidationSupportChain chain =
          new ValidationSupportChain(known, new InMemoryTerminologyServerValidationSupport(FHIR));
      var outcome =
          chain.expandValueSet(
              new ValidationSupportContext(chain),
              new ValueSetExpansionOptions().setCount(100_000).setFailOnMissingCodeSystem(true),
              compose);
      if (outcome == null || outcome.getError() != null) {
        problems.add(shipped.getId() + ": " + (outcome == null ? "no answer" : outcome.getError()));
        continue;
      }
      Set<String> expanded = codes(((ValueSet) outcome.getValueSet()).getExpansion().getContains());
      Set<String> listed = codes(shipped.getExpansion().getContains());
      if (!expanded.equals(listed)) {
        problems.add(
            shipped.getId() + ": HAPI " + expanded.size() + " codes, package " + listed.size());
      }
      if (shipped.getExpansion().getTotal() != listed.size()) {
        problems.add(shipped.getId() + ": total " + shipped.getExpansion().getTotal());
      }
    }
    assertThat(problems).isEmpty();
  }

  private Set<String> letters(ValueSet vs) {
    Set<String> out = new TreeSet<>();
    vs.getExpansion().getContains().stream()
        .filter(c -> Icd10cm.SYSTEM.equals(c.getSystem()))
        .forEach(c -> out.add(c.getCode().substring(0, 1)));
    return out;
  }

  private static Set<String> codes(List<ValueSet.ValueSetExpansionContainsComponent> contains) {
    Set<String> out = new TreeSet<>();
    contains.forEach(c -> out.add(c.getSystem() + "|" + c.getCode()));
    return out;
  }
}
