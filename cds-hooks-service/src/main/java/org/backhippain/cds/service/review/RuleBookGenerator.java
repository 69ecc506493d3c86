package org.backhippain.cds.service.review;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;

/**
 * Writes the rule book into the service's classes ({@code rulebook/}), run by the build
 * (exec-maven-plugin) so that the pages, and the case results they show, come from the build.
 */
public final class RuleBookGenerator {
  private RuleBookGenerator() {}

  public static void main(String[] args) throws IOException {
    Path out = Path.of(args.length > 0 ? args[0] : "target/classes/rulebook");
    long start = System.nanoTime();
    FhirContext fhir = FhirContext.forR4Cached();
    ContentPackage content = ContentPackage.load(fhir);
    RuleBook book = new RuleBook(content, RuleEngine.start(content, fhir, Map.of()), fhir);
    Files.createDirectories(out);
    for (Map.Entry<String, String> page : book.pages().entrySet()) {
      Files.writeString(out.resolve(page.getKey()), page.getValue(), StandardCharsets.UTF_8);
    }
    long passing = book.runs().stream().filter(RuleBook.CaseRun::passes).count();
    System.out.printf(
        "Rule book: %d pages written to %s; cases passing %d / %d; in %d ms%n",
        book.pages().size(),
        out,
        passing,
        book.runs().size(),
        (System.nanoTime() - start) / 1_000_000);
  }
}
