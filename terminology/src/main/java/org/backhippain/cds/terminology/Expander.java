package org.backhippain.cds.terminology;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport.ValueSetExpansionOutcome;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.context.support.ValueSetExpansionOptions;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * Expands a ValueSet's compose with HAPI's in-memory terminology service ({@link
 * InMemoryTerminologyServerValidationSupport} in a {@link ValidationSupportChain}), with the
 * ICD-10-CM table loaded as a CodeSystem and the other content ValueSets available for {@code
 * include.valueSet}. HAPI's defaults would cut silently: the expansion count is set above any set's
 * size and a missing code system fails the expansion.
 *
 * <p>The ICD-10-CM CodeSystem given to HAPI holds the chapters (first letters) the compose names:
 * HAPI 8.8 indexes the whole CodeSystem once per include (about 1.3 s per include over the 98,186
 * codes; the cancer set has 91 includes), and the ICD-10-CM hierarchy never crosses a first letter
 * (every code's ancestors start with its letter), so a CodeSystem of those chapters expands every
 * {@code is-a} root exactly as the whole table does.
 */
final class Expander {
  /** Larger than any expansion the content has; HAPI's default count is 1000. */
  static final int COUNT = 100_000;

  private final FhirContext fhir;
  private final CodeSystem icd;
  private final Map<String, CodeSystem> byLetters = new HashMap<>();

  Expander(FhirContext fhir, CodeSystem icd) {
    this.fhir = fhir;
    this.icd = icd;
  }

  /** The expansion of {@code vs}'s compose; {@code others}: ValueSets it may include. */
  ValueSet expand(ValueSet vs, Collection<ValueSet> others) {
    Map<String, ValueSet> byUrl = new HashMap<>();
    others.forEach(o -> byUrl.put(o.getUrl(), o));
    TreeSet<String> letters = new TreeSet<>();
    icdLetters(vs, byUrl, letters);
    PrePopulatedValidationSupport known = new PrePopulatedValidationSupport(fhir);
    if (!letters.isEmpty()) {
      known.addCodeSystem(chapters(String.join("", letters)));
    }
    others.forEach(known::addValueSet);
    ValidationSupportChain chain =
        new ValidationSupportChain(known, new InMemoryTerminologyServerValidationSupport(fhir));
    ValueSetExpansionOptions options =
        new ValueSetExpansionOptions().setCount(COUNT).setFailOnMissingCodeSystem(true);
    ValueSetExpansionOutcome outcome =
        chain.expandValueSet(new ValidationSupportContext(chain), options, vs);
    if (outcome == null || outcome.getError() != null || outcome.getValueSet() == null) {
      throw new IllegalStateException(
          "HAPI could not expand "
              + vs.getUrl()
              + ": "
              + (outcome == null ? "no terminology service answered" : outcome.getError()));
    }
    return (ValueSet) outcome.getValueSet();
  }

  private static void icdLetters(
      ValueSet vs, Map<String, ValueSet> byUrl, TreeSet<String> letters) {
    for (var set : vs.getCompose().getInclude()) {
      add(set, letters);
      set.getValueSet()
          .forEach(
              nested -> {
                ValueSet other = byUrl.get(nested.getValue());
                if (other != null) {
                  icdLetters(other, byUrl, letters);
                }
              });
    }
    vs.getCompose().getExclude().forEach(set -> add(set, letters));
  }

  private static void add(ValueSet.ConceptSetComponent set, TreeSet<String> letters) {
    if (!Icd10cm.SYSTEM.equals(set.getSystem())) {
      return;
    }
    set.getFilter()
        .forEach(f -> letters.add(f.getValue().substring(0, 1).toUpperCase(Locale.ROOT)));
    set.getConcept()
        .forEach(c -> letters.add(c.getCode().substring(0, 1).toUpperCase(Locale.ROOT)));
  }

  private CodeSystem chapters(String letters) {
    return byLetters.computeIfAbsent(
        letters,
        l -> {
          CodeSystem cs = icd.copy();
          cs.getConcept().clear();
          for (var concept : icd.getConcept()) {
            if (l.indexOf(concept.getCode().charAt(0)) >= 0) {
              cs.addConcept(concept);
            }
          }
          cs.setCountElement(null);
          return cs;
        });
  }
}
