package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import java.util.List;

/**
 * Build-time check of the content: translates every CQL library and verifies that every rule's
 * PlanDefinition names a library that exposes the defines the service reads. Run by the cql-library
 * build (exec-maven-plugin, process-test-classes); a problem fails the build, naming the file, line
 * and column.
 */
public final class CqlCheck {
  private CqlCheck() {}

  public static void main(String[] args) {
    check(ContentSources.read(FhirContext.forR4Cached()));
  }

  /**
   * Translates the content's CQL and checks the rule contract.
   *
   * @return the translation, when it has no problem
   * @throws IllegalStateException naming every problem (also printed, one per line)
   */
  static CqlCompilation check(ContentPackage content) {
    long start = System.nanoTime();
    CqlCompilation compilation = CqlCompilation.translate(content);
    List<String> problems =
        new java.util.ArrayList<>(
            compilation.problems().stream().map(CqlCompilation.Problem::toString).toList());
    if (problems.isEmpty()) {
      problems.addAll(RuleCatalog.contractProblems(content, compilation));
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    failOn(problems);
    System.out.printf(
        "CQL check: %d libraries translated without errors, %d rules checked, in %d ms%n",
        content.cql().size(), content.planDefinitions().size(), millis);
    return compilation;
  }

  /**
   * Fails the build on content problems: prints each on its own line and throws.
   *
   * @throws IllegalStateException naming the first, when there is any
   */
  static void failOn(List<String> problems) {
    if (!problems.isEmpty()) {
      problems.forEach(p -> System.err.println("[CONTENT ERROR] " + p));
      throw new IllegalStateException(
          problems.size() + " content problem(s); first: " + problems.get(0));
    }
  }
}
