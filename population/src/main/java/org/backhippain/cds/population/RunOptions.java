package org.backhippain.cds.population;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The command line of a run. Site overrides come as {@code --site-parameter "Name=value"} or from
 * the service's own configuration file ({@code --config application.yml} or {@code .properties}:
 * {@code cds.site-parameters} and {@code cds.time-zone}), so a dry run uses the thresholds the
 * service will run with.
 *
 * @param master the Spark master when spark-submit did not set one (default {@code local[*]})
 */
record RunOptions(
    List<String> inputs,
    String output,
    LocalDate asOf,
    String zone,
    Map<String, String> siteParameters,
    int replicate,
    int progressSeconds,
    String master,
    boolean ui,
    java.util.Set<String> unavailable) {

  static final String USAGE =
      """
      usage: java -jar population.jar --input PATH [--input PATH ...] --output DIR [options]
             java -jar population.jar export-cases DIR [--hook patient-view|order-select]

        --input PATH            a Bulk Data export folder (NDJSON per type, .ndjson or .ndjson.gz),
                                an NDJSON file, a Bulk Data status manifest (*.json with "output"),
                                or a folder of Bundles (Synthea's fhir/); repeatable
        --output DIR            where the report and the worklist (PHI) are written
        --as-of YYYY-MM-DD      evaluate as of this date; later facts are dropped (default: today)
        --time-zone ZONE        the service's cds.time-zone (default UTC)
        --site-parameter N=V    a cds.site-parameters override, e.g. "PT Referral Minimum Days=28"
        --config FILE           the service's application.yml or .properties: its
                                cds.site-parameters and cds.time-zone apply
        --unavailable KEY       a prefetch key the export could not give (e.g. observations): the
                                rules compute without it, as the service does; repeatable (found
                                by itself when the export's manifest names the types it asked for)
        --replicate N           evaluate the cohort N times, ids rewritten on read (benchmarks)
        --progress-seconds N    seconds between progress lines (default 10)
        --master URL            Spark master when not run by spark-submit (default local[*])
        --ui                    keep Spark's web UI on (off by default when run embedded)

      exit code: 0 done, nothing skipped; 2 done, some input skipped (see the report); 1 failed
      """;

  RunOptions {
    inputs = List.copyOf(inputs);
    siteParameters = Map.copyOf(siteParameters);
    unavailable = java.util.Set.copyOf(unavailable);
  }

  static RunOptions parse(String... args) {
    List<String> inputs = new ArrayList<>();
    String output = null;
    LocalDate asOf = null;
    String zone = null;
    Map<String, String> site = new LinkedHashMap<>();
    Map<String, String> fromConfig = new LinkedHashMap<>();
    String configZone = null;
    int replicate = 1;
    int progress = 10;
    String master = null;
    boolean ui = false;
    java.util.Set<String> unavailable = new java.util.LinkedHashSet<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--input" -> inputs.add(value(args, ++i, arg));
        case "--output" -> output = value(args, ++i, arg);
        case "--as-of" -> asOf = LocalDate.parse(value(args, ++i, arg));
        case "--time-zone" -> zone = value(args, ++i, arg);
        case "--site-parameter" -> {
          String pair = value(args, ++i, arg);
          int eq = pair.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException("--site-parameter needs Name=value: " + pair);
          }
          site.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
        }
        case "--config" -> {
          Map<String, Object> cds = cdsSection(Path.of(value(args, ++i, arg)));
          if (cds.get("site-parameters") instanceof Map<?, ?> params) {
            params.forEach(
                (k, v) -> fromConfig.put(unbracket(String.valueOf(k)), String.valueOf(v)));
          }
          if (cds.get("time-zone") != null) {
            configZone = String.valueOf(cds.get("time-zone"));
          }
        }
        case "--replicate" -> replicate = Integer.parseInt(value(args, ++i, arg));
        case "--progress-seconds" -> progress = Integer.parseInt(value(args, ++i, arg));
        case "--master" -> master = value(args, ++i, arg);
        case "--ui" -> ui = true;
        case "--unavailable" -> unavailable.add(value(args, ++i, arg));
        default -> throw new IllegalArgumentException("unknown argument: " + arg);
      }
    }
    if (inputs.isEmpty() || output == null) {
      throw new IllegalArgumentException("--input and --output are required");
    }
    if (replicate < 1) {
      throw new IllegalArgumentException("--replicate must be at least 1");
    }
    Map<String, String> parameters = new LinkedHashMap<>(fromConfig);
    parameters.putAll(site);
    String effectiveZone = zone != null ? zone : configZone != null ? configZone : "UTC";
    ZoneId.of(effectiveZone);
    return new RunOptions(
        inputs,
        output,
        asOf != null ? asOf : LocalDate.now(ZoneId.of(effectiveZone)),
        effectiveZone,
        parameters,
        replicate,
        progress,
        master,
        ui,
        unavailable);
  }

  private static String value(String[] args, int i, String name) {
    if (i >= args.length) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return args[i];
  }

  /** Spring's map-key brackets ({@code [PT Referral Minimum Days]}) dropped. */
  static String unbracket(String key) {
    String k = key.strip();
    return k.startsWith("[") && k.endsWith("]") ? k.substring(1, k.length() - 1) : k;
  }

  /** The {@code cds} section of the service's configuration (YAML or properties). */
  @SuppressWarnings("unchecked")
  static Map<String, Object> cdsSection(Path file) {
    String name = file.getFileName().toString();
    try (InputStream in = Files.newInputStream(file)) {
      if (name.endsWith(".properties")) {
        Properties properties = new Properties();
        properties.load(in);
        Map<String, Object> cds = new LinkedHashMap<>();
        Map<String, Object> params = new LinkedHashMap<>();
        for (String key : properties.stringPropertyNames()) {
          if (key.startsWith("cds.site-parameters.")) {
            params.put(key.substring("cds.site-parameters.".length()), properties.getProperty(key));
          } else if (key.equals("cds.time-zone")) {
            cds.put("time-zone", properties.getProperty(key));
          }
        }
        cds.put("site-parameters", params);
        return cds;
      }
      JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(in);
      JsonNode cds = root == null ? null : root.get("cds");
      return cds == null ? Map.of() : new ObjectMapper().convertValue(cds, Map.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
