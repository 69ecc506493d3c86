package org.backhippain.cds.population;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The files a run reads, found on the driver before anything is read in parallel: a Bulk Data
 * export's NDJSON files (one resource type each, optionally gzipped; the type from its status
 * manifest or the file name, else from every line), Bundles (a Synthea {@code fhir/} folder), and
 * Bulk Data status manifests ({@code {"transactionTime":…,"output":[{"type","url"}]}}) whose files
 * are looked up beside the manifest. Paths are Hadoop paths, so a cluster reads HDFS or object
 * storage the same way. Missing files are problems, never fatal.
 *
 * @param files the files to read, in a stable order (their index identifies them in reports)
 * @param missing paths named (on the command line or in a manifest) but not found
 * @param notRead per resource type, the files skipped because the rules do not read that type
 * @param requestedTypes the types the export was asked for (its manifest's {@code _type}), or null
 *     when all were: a prefetch key none of whose types was asked for is unavailable to the rules
 *     (a type merely absent from an export has no data, which is not the same)
 */
record InputPlan(
    List<InputFile> files,
    List<String> missing,
    TreeMap<String, Integer> notRead,
    Set<String> requestedTypes)
    implements Serializable {

  enum Format {
    NDJSON,
    BUNDLE
  }

  /** One file; {@code type} is null when each line says its own type. */
  record InputFile(String path, Format format, String type) implements Serializable {
    String name() {
      return path.substring(path.lastIndexOf('/') + 1);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  static InputPlan of(List<String> inputs, ContentScope scope, Configuration hadoop) {
    Builder builder = new Builder(scope, hadoop);
    for (String input : inputs) {
      builder.add(input, true);
    }
    return builder.build();
  }

  /** Files that may hold Medication or MedicationRequest lines (for the medication join). */
  List<Integer> medicationFiles() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      InputFile f = files.get(i);
      if (f.format() == Format.NDJSON
          && (f.type() == null
              || f.type().equals("Medication")
              || f.type().equals("MedicationRequest"))) {
        out.add(i);
      }
    }
    return out;
  }

  private static final class Builder {
    final ContentScope scope;
    final Configuration hadoop;
    final List<InputFile> files = new ArrayList<>();
    final Set<String> seen = new LinkedHashSet<>();
    final List<String> missing = new ArrayList<>();
    final TreeMap<String, Integer> notRead = new TreeMap<>();
    Set<String> requested;
    boolean unrestricted;

    Builder(ContentScope scope, Configuration hadoop) {
      this.scope = scope;
      this.hadoop = hadoop;
    }

    InputPlan build() {
      return new InputPlan(
          List.copyOf(files), List.copyOf(missing), notRead, unrestricted ? null : requested);
    }

    void add(String input, boolean explicit) {
      Path path = new Path(input);
      try {
        FileSystem fs = path.getFileSystem(hadoop);
        if (!fs.exists(path)) {
          missing.add(input);
          return;
        }
        FileStatus status = fs.getFileStatus(path);
        if (status.isDirectory()) {
          FileStatus[] children = fs.listStatus(path);
          Arrays.sort(children, Comparator.comparing(s -> s.getPath().getName()));
          for (FileStatus child : children) {
            String name = child.getPath().getName();
            if (child.isFile() && !name.startsWith(".") && !name.startsWith("_")) {
              add(child.getPath().toString(), false);
            }
          }
          return;
        }
        String name = path.getName().toLowerCase(Locale.ROOT);
        String qualified = fs.makeQualified(path).toString();
        if (name.endsWith(".ndjson") || name.endsWith(".ndjson.gz")) {
          ndjson(qualified, typeFromName(path.getName()));
        } else if (name.endsWith(".json")) {
          json(fs, path, qualified);
        } else if (explicit) {
          ndjson(qualified, typeFromName(path.getName()));
        }
      } catch (IOException e) {
        missing.add(input);
      }
    }

    void ndjson(String path, String type) {
      if (!seen.add(path)) {
        return;
      }
      if (type != null && !scope.readTypes().contains(type)) {
        notRead.merge(type, 1, Integer::sum);
        return;
      }
      files.add(new InputFile(path, Format.NDJSON, type));
    }

    /**
     * A Bundle, or a Bulk Data manifest whose files are read in its place. A single resource of a
     * type the rules do not read (Synthea writes its {@code $import} Parameters beside the NDJSON
     * files) is counted as not read, like an NDJSON file of such a type; any other JSON is read as
     * a Bundle (and reported if it is not one).
     */
    void json(FileSystem fs, Path path, String qualified) throws IOException {
      String kind;
      try (InputStream in = fs.open(path)) {
        kind = topLevelKind(in);
      }
      if (kind.equals(MANIFEST)) {
        manifest(fs, path);
      } else if (!kind.equals(BUNDLE)
          && scope.knownTypes().contains(kind)
          && !scope.readTypes().contains(kind)) {
        if (seen.add(qualified)) {
          notRead.merge(kind, 1, Integer::sum);
        }
      } else if (seen.add(qualified)) {
        unrestricted = true;
        files.add(new InputFile(qualified, Format.BUNDLE, null));
      }
    }

    void manifest(FileSystem fs, Path manifest) throws IOException {
      JsonNode json;
      try (InputStream in = fs.open(manifest)) {
        json = JSON.readTree(in);
      }
      List<String> types = ContentScope.parameters(json.path("request").asText("")).get("_type");
      if (types == null) {
        unrestricted = true;
      } else {
        requested = requested == null ? new LinkedHashSet<>() : requested;
        requested.addAll(types);
      }
      for (JsonNode output : json.path("output")) {
        String url = output.path("url").asText("");
        String type = output.path("type").asText(null);
        Path file = resolve(manifest.getParent(), url);
        if (file == null || !fs.exists(file)) {
          missing.add(
              url.isEmpty() ? "(an output without url in " + manifest.getName() + ")" : url);
          continue;
        }
        ndjson(fs.makeQualified(file).toString(), scope.knownTypes().contains(type) ? type : null);
      }
    }

    /** A manifest's url: a file URL or path, or a server URL whose file name lies beside it. */
    static Path resolve(Path folder, String url) {
      if (url.isEmpty()) {
        return null;
      }
      if (url.startsWith("http://") || url.startsWith("https://")) {
        String name = URI.create(url).getPath();
        return new Path(folder, name.substring(name.lastIndexOf('/') + 1));
      }
      Path p = new Path(url);
      return p.isAbsolute() || url.contains(":") ? p : new Path(folder, url);
    }

    /**
     * The type a file name starts with ({@code Patient.ndjson}, {@code Observation.002.ndjson}).
     */
    String typeFromName(String name) {
      String first = name.split("[.\\-_]", 2)[0];
      return scope.knownTypes().contains(first) ? first : null;
    }

    static final String MANIFEST = "manifest";
    static final String BUNDLE = "Bundle";

    /**
     * {@code MANIFEST} for a Bulk Data status manifest, else the top-level {@code resourceType}
     * ({@code BUNDLE} when there is none: checked when read).
     */
    static String topLevelKind(InputStream in) throws IOException {
      try (JsonParser parser = new JsonFactory().createParser(in)) {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
          return BUNDLE;
        }
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String field = parser.currentName();
          JsonToken value = parser.nextToken();
          if (field.equals("resourceType")) {
            return value == JsonToken.VALUE_STRING ? parser.getText() : BUNDLE;
          }
          if (field.equals("output") || field.equals("transactionTime")) {
            return MANIFEST;
          }
          parser.skipChildren();
        }
      } catch (IOException e) {
        // not JSON: reported as a bad Bundle when read
      }
      return BUNDLE;
    }
  }
}
