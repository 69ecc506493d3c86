package org.backhippain.cds.rulebook;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;

/**
 * Writes the rule book into the service's classes ({@code rulebook/}): run by the service's build
 * (exec-maven-plugin, at {@code compile}, after the service's classes) so that the pages, and the
 * case results they show, come from the build. Arguments: the output folder and the name of the
 * service's class that renders a rule's card as the service answers it (a {@code
 * Function<RuleResult, Map<String, Object>>} constructed from the content, engine and FHIR
 * context).
 */
public final class RuleBookGenerator {
  private RuleBookGenerator() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    long start = System.nanoTime();
    FhirContext fhir = FhirContext.forR4Cached();
    ContentPackage content = ContentPackage.load(fhir);
    RuleEngine engine = RuleEngine.start(content, fhir, Map.of());
    @SuppressWarnings("unchecked")
    Function<RuleResult, Map<String, Object>> cards =
        (Function<RuleResult, Map<String, Object>>)
            Class.forName(args[1])
                .getConstructor(ContentPackage.class, RuleEngine.class, FhirContext.class)
                .newInstance(content, engine, fhir);
    RuleBook book = new RuleBook(content, engine, fhir, cards);
    write(out, book.pages());
    long passing = book.runs().stream().filter(RuleBook.CaseRun::passes).count();
    System.out.printf(
        "Rule book: %d pages written to %s; cases passing %d / %d; in %d ms%n",
        book.pages().size(),
        out,
        passing,
        book.runs().size(),
        (System.nanoTime() - start) / 1_000_000);
  }

  static void write(Path out, Map<String, String> pages) throws IOException {
    Files.createDirectories(out);
    for (Map.Entry<String, String> page : pages.entrySet()) {
      Files.writeString(out.resolve(page.getKey()), page.getValue(), StandardCharsets.UTF_8);
    }
  }
}
