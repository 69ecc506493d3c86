package org.backhippain.cds.terminology;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** One run of the terminology build over the repository, shared by the test classes. */
final class Built {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static TerminologyBuild build;
  private static Map<String, String> files;

  private Built() {}

  static synchronized TerminologyBuild build() {
    if (build == null) {
      build = new TerminologyBuild(ROOT, Instant.parse("2030-01-01T00:00:00Z"));
      files = build.files();
    }
    return build;
  }

  static Map<String, String> files() {
    build();
    return files;
  }
}
