package org.backhippain.cds.terminology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The published expansions in {@code sources/}, each a JSON snapshot with its provenance
 * (repository, path, commit, canonical URL or VSAC OID, expansion date) and its codes. A source is
 * known by the key its file name starts with ({@code 01a}, {@code 05b}, {@code synthea}).
 */
final class Sources {
  static final String SNOMED = "http://snomed.info/sct";
  static final String RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm";
  private static final Pattern OID = Pattern.compile("\\b(\\d+(?:\\.\\d+){5,})\\b");
  private static final Pattern URL = Pattern.compile("(https?://\\S+)");

  /** One code of a source, as the source lists it. */
  record Code(String system, String code, String display, String version) {}

  /** One source snapshot. */
  record Source(
      String key,
      String file,
      String title,
      String repo,
      String path,
      String commit,
      String urlOrOid,
      String date,
      String derivation,
      List<Code> codes) {

    /** The VSAC OID the source names, if any. */
    String oid() {
      if (urlOrOid == null) {
        return null;
      }
      Matcher m = OID.matcher(urlOrOid);
      return m.find() ? m.group(1) : null;
    }

    /** The canonical URL of the value set the source expands (VSAC or another publisher). */
    String canonical() {
      if (urlOrOid == null) {
        return null;
      }
      Matcher m = URL.matcher(urlOrOid);
      if (m.find()) {
        return m.group(1);
      }
      String oid = oid();
      return oid == null ? null : "http://cts.nlm.nih.gov/fhir/ValueSet/" + oid;
    }

    /**
     * A refresh can re-expand it: a value set with a canonical URL or OID, taken as published (not
     * a filtered subset).
     */
    boolean refreshable() {
      return canonical() != null && derivation == null && !canonical().contains("*");
    }

    /** One line naming the source: title, OID or URL, date, where it was read. */
    String provenance() {
      StringBuilder out = new StringBuilder(title);
      String oid = oid();
      if (oid != null) {
        out.append("; VSAC ").append(oid);
      } else if (canonical() != null) {
        out.append("; ").append(canonical());
      }
      if (date != null) {
        out.append("; ").append(date);
      }
      if (repo != null) {
        out.append("; ")
            .append(repo.replace("https://github.com/", ""))
            .append(commit == null ? "" : "@" + commit.substring(0, Math.min(10, commit.length())))
            .append(path == null ? "" : " " + path);
      }
      if (derivation != null) {
        out.append("; derived: ").append(derivation);
      }
      return out.toString();
    }
  }

  private final Map<String, Source> byKey;

  private Sources(Map<String, Source> byKey) {
    this.byKey = byKey;
  }

  static Sources load(Path dir) {
    Map<String, Source> byKey = new TreeMap<>();
    ObjectMapper json = new ObjectMapper();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        Source source = read(json.readTree(file.toFile()), file.getFileName().toString());
        if (byKey.put(source.key(), source) != null) {
          throw new IllegalStateException("two sources with key " + source.key());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Sources(byKey);
  }

  static Source read(JsonNode node, String file) {
    List<Code> codes = new ArrayList<>();
    for (JsonNode c : node.path("codes")) {
      codes.add(
          new Code(
              c.path("system").asText(),
              c.path("code").asText(),
              text(c, "display"),
              text(c, "system_version")));
    }
    String key = file.contains("-") ? file.substring(0, file.indexOf('-')) : file;
    if (key.endsWith(".json")) {
      key = key.substring(0, key.length() - 5);
    }
    return new Source(
        key,
        file,
        text(node, "concept"),
        text(node, "source_repo"),
        text(node, "source_path"),
        text(node, "source_commit"),
        text(node, "source_url_or_oid"),
        text(node, "expansion_version_or_date"),
        text(node, "derivation"),
        List.copyOf(codes));
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.path(field);
    return v.isMissingNode() || v.isNull() || v.asText().isBlank() ? null : v.asText();
  }

  Source get(String key) {
    Source s = byKey.get(key);
    if (s == null) {
      throw new IllegalStateException("no source " + key + " in sources/");
    }
    return s;
  }

  List<Source> all() {
    return List.copyOf(byKey.values());
  }
}
