package org.backhippain.cds.terminology;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.hl7.fhir.r4.model.ValueSet;

/**
 * Refreshes source snapshots from a FHIR terminology server and rebuilds the content's value sets:
 * for each source of {@code definitions/refresh.json} it pages {@code ValueSet/$expand} ({@code
 * offset}/{@code count}) until the expansion's {@code total} is reached, fails on a mismatch (a
 * short or empty page before the total, a total that changes between pages, a code listed twice),
 * and only when every source came back whole writes the new snapshots and runs {@link
 * TerminologyBuild}, which prints the per-set diff. Curated codes and the spec's "(verify)" markers
 * live in the definitions, so a refresh never touches them. VSAC authentication: Basic {@code
 * apikey:<key>}, the key from an environment variable ({@code VSAC_API_KEY}). Every request is
 * bounded in time and every answer in bytes.
 *
 * <p>Usage: {@code Refresh <repository root> [--server URL] [--sources 01c,05b] [--page-size N]
 * [--timeout-seconds N] [--max-bytes N]}.
 */
public final class Refresh {
  static final String FHIR_JSON = "application/fhir+json";

  /** Where and how to ask. */
  record Options(
      String server,
      String apiKey,
      int pageSize,
      Duration timeout,
      long maxBytes,
      List<String> only) {}

  /** A refreshed expansion: its codes and where it came from. */
  record Fetched(
      String key, String request, String timestamp, String version, List<Sources.Code> codes) {}

  private final Path root;
  private final Options options;
  private final HttpClient http;
  private final FhirContext fhir = FhirContext.forR4Cached();
  private final ObjectMapper json = new ObjectMapper();

  Refresh(Path root, Options options) {
    this.root = root;
    this.options = options;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(options.timeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args[0]).toAbsolutePath().normalize();
    JsonNode config =
        new ObjectMapper().readTree(root.resolve("terminology/definitions/refresh.json").toFile());
    Map<String, String> flags = new LinkedHashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      flags.put(args[i], args[i + 1]);
    }
    String keyVariable = config.path("apiKeyVariable").asText();
    Options options =
        new Options(
            flags.getOrDefault("--server", config.path("server").asText()),
            System.getenv(keyVariable),
            Integer.parseInt(flags.getOrDefault("--page-size", "1000")),
            Duration.ofSeconds(Long.parseLong(flags.getOrDefault("--timeout-seconds", "60"))),
            Long.parseLong(flags.getOrDefault("--max-bytes", String.valueOf(64L << 20))),
            flags.containsKey("--sources")
                ? List.of(flags.get("--sources").split(","))
                : List.of());
    if (options.apiKey() == null) {
      System.err.println("no API key: set " + keyVariable + " (VSAC: the key of your UTS profile)");
      System.exit(2);
    }
    new Refresh(root, options).run(Instant.now());
  }

  /** Fetches every selected source, writes the snapshots, rebuilds; returns the build's diff. */
  String run(Instant now) throws IOException {
    JsonNode config = json.readTree(root.resolve("terminology/definitions/refresh.json").toFile());
    Map<String, JsonNode> targets = new LinkedHashMap<>();
    config.path("sources").fields().forEachRemaining(e -> targets.put(e.getKey(), e.getValue()));
    config
        .path("otherServers")
        .fields()
        .forEachRemaining(
            e -> {
              if (options.only().contains(e.getKey())) {
                targets.put(e.getKey(), e.getValue());
              }
            });
    if (!options.only().isEmpty()) {
      targets.keySet().retainAll(options.only());
      if (targets.size() != options.only().size()) {
        throw new IllegalArgumentException(
            "not refreshable: " + options.only() + " (see refresh.json)");
      }
    }
    Sources sources = Sources.load(root.resolve("terminology/sources"));
    List<Fetched> fetched = new ArrayList<>();
    for (var t : targets.entrySet()) {
      fetched.add(fetch(t.getKey(), t.getValue()));
      System.out.printf(
          "%s: %d codes%n", t.getKey(), fetched.get(fetched.size() - 1).codes().size());
    }
    for (Fetched f : fetched) {
      write(sources.get(f.key()), f, now);
    }
    Checksums.write(root.resolve("terminology/sources"));
    TerminologyBuild build = new TerminologyBuild(root, now);
    Map<String, String> before = build.currentFiles();
    Map<String, String> after = build.files();
    for (var f : after.entrySet()) {
      Files.writeString(root.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
    }
    String diff = build.diff(before, after);
    System.out.print(diff);
    return diff;
  }

  /** Pages the expansion of one source's value set until its total. */
  Fetched fetch(String key, JsonNode target) {
    String base = options.server().replaceAll("/+$", "");
    String first = null;
    String timestamp = null;
    String version = null;
    Integer total = null;
    List<Sources.Code> codes = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    while (total == null || codes.size() < total) {
      String request = request(base, target, codes.size());
      if (first == null) {
        first = request;
      }
      ValueSet page = fhir.newJsonParser().parseResource(ValueSet.class, get(request));
      var expansion = page.getExpansion();
      if (!expansion.hasTotal()) {
        throw new IllegalStateException(key + ": the server's expansion has no total: " + request);
      }
      if (total == null) {
        total = expansion.getTotal();
        timestamp =
            expansion.hasTimestamp() ? expansion.getTimestampElement().getValueAsString() : null;
        version = page.getVersion();
      } else if (total != expansion.getTotal()) {
        throw new IllegalStateException(
            key
                + ": total changed between pages ("
                + total
                + " then "
                + expansion.getTotal()
                + ")");
      }
      List<Sources.Code> pageCodes = new ArrayList<>();
      flatten(expansion.getContains(), pageCodes);
      if (pageCodes.isEmpty() && codes.size() < total) {
        throw new IllegalStateException(
            key + ": empty page at offset " + codes.size() + " of total " + total + ": " + request);
      }
      for (Sources.Code c : pageCodes) {
        if (!seen.add(c.system() + "|" + c.code())) {
          throw new IllegalStateException(key + ": " + c.code() + " listed twice by the server");
        }
        codes.add(c);
      }
    }
    if (codes.size() != total) {
      throw new IllegalStateException(key + ": " + codes.size() + " codes for a total of " + total);
    }
    return new Fetched(key, first, timestamp, version, codes);
  }

  private String request(String base, JsonNode target, int offset) {
    String paging = "offset=" + offset + "&count=" + options.pageSize();
    if (target.has("oid")) {
      return base + "/ValueSet/" + target.path("oid").asText() + "/$expand?" + paging;
    }
    return base
        + "/ValueSet/$expand?url="
        + URLEncoder.encode(target.path("url").asText(), StandardCharsets.UTF_8)
        + "&"
        + paging;
  }

  private static void flatten(
      List<ValueSet.ValueSetExpansionContainsComponent> contains, List<Sources.Code> out) {
    for (var c : contains) {
      if (c.hasCode()) {
        out.add(new Sources.Code(c.getSystem(), c.getCode(), c.getDisplay(), c.getVersion()));
      }
      flatten(c.getContains(), out);
    }
  }

  /** One GET, bounded in time and bytes. */
  private String get(String uri) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(uri))
            .timeout(options.timeout())
            .header("Accept", FHIR_JSON)
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder()
                        .encodeToString(
                            ("apikey:" + options.apiKey()).getBytes(StandardCharsets.UTF_8)))
            .GET()
            .build();
    try {
      HttpResponse<InputStream> response =
          http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = response.body()) {
        byte[] bytes =
            body.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, options.maxBytes() + 1));
        if (bytes.length > options.maxBytes()) {
          throw new IllegalStateException(
              uri + ": answer larger than " + options.maxBytes() + " bytes");
        }
        if (response.statusCode() != 200) {
          throw new IllegalStateException(uri + ": HTTP " + response.statusCode());
        }
        return new String(bytes, StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(uri + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(uri + ": interrupted", e);
    }
  }

  /** The new snapshot: the old file's description, the server's codes and where they came from. */
  private void write(Sources.Source old, Fetched f, Instant now) throws IOException {
    Path file = root.resolve("terminology/sources").resolve(old.file());
    ObjectNode node = (ObjectNode) json.readTree(file.toFile());
    node.put("source_repo", options.server());
    node.put("source_path", f.request().replaceFirst("^.*?/ValueSet", "ValueSet"));
    node.putNull("source_commit");
    node.put(
        "expansion_version_or_date",
        (f.version() == null ? "" : "definition version " + f.version() + " / ")
            + "expansion "
            + (f.timestamp() == null ? "(no timestamp)" : f.timestamp())
            + "; refreshed "
            + now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    ArrayNode codes = node.putArray("codes");
    Map<String, Integer> bySystem = new TreeMap<>();
    for (Sources.Code c : f.codes()) {
      ObjectNode o = codes.addObject();
      o.put("system", c.system());
      o.put("code", c.code());
      // CPT descriptors are AMA copyright: codes only (clinical spec §6i, §6j).
      o.put("display", "http://www.ama-assn.org/go/cpt".equals(c.system()) ? null : c.display());
      if (c.version() != null) {
        o.put("system_version", c.version());
      }
      bySystem.merge(c.system(), 1, Integer::sum);
    }
    ObjectNode counts = node.putObject("counts_by_system");
    bySystem.forEach(counts::put);
    Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
  }
}
