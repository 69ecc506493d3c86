package org.backhippain.cds.terminology;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code sources/SHA256SUMS}: the sha256 of every source file ({@code sha256sum -c SHA256SUMS}
 * checks them), rewritten by a refresh.
 */
final class Checksums {
  static final String FILE = "SHA256SUMS";

  private Checksums() {}

  /** File path below {@code dir} → sha256, for every file but SHA256SUMS and the READMEs. */
  static Map<String, String> of(Path dir) {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        String name = dir.relativize(p).toString().replace('\\', '/');
        if (!name.equals(FILE) && !name.endsWith("README.md")) {
          out.put(name, sha256(p));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static void write(Path dir) throws IOException {
    StringBuilder text = new StringBuilder();
    of(dir).forEach((name, sum) -> text.append(sum).append("  ").append(name).append('\n'));
    Files.writeString(dir.resolve(FILE), text.toString());
  }

  static String sha256(Path file) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
