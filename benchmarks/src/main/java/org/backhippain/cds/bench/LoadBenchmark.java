package org.backhippain.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * HTTP load against a running service (bench profile): the patient-view hook with template prefetch
 * of the median Synthea patient, and in the same run the floor (same request, parsed but not
 * evaluated); fixed concurrency; HdrHistogram percentiles, throughput and their ratio. Then the
 * largest patient, with template prefetch and with every resource.
 *
 * <p>Arguments: base URL, concurrency, requests per phase.
 */
public final class LoadBenchmark {
  static final ObjectMapper JSON = new ObjectMapper();
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final HttpClient HTTP = HttpClient.newBuilder().build();

  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "http://localhost:8091";
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    int requests = args.length > 2 ? Integer.parseInt(args[2]) : 400;
    List<Bundle> bundles =
        SyntheaPatients.bySize(SyntheaPatients.require(Path.of("target/synthea"), 30), FHIR);
    Bundle median = bundles.get(bundles.size() / 2);
    Bundle largest = bundles.get(bundles.size() - 1);
    System.out.printf(
        "Synthea patients: %d; median %d entries, largest %d entries%n",
        bundles.size(), median.getEntry().size(), largest.getEntry().size());
    String medianBody = request(median, false);
    String hook = base + "/cds-services/back-hip-pain-patient-view";
    String floor = base + "/bench/floor/back-hip-pain-patient-view";

    // The load generator's own HTTP client is warmed on discovery first, so that the first hook
    // measures the service, not this JVM's first request (as an EHR's client is long warm).
    for (int i = 0; i < 20; i++) {
      HTTP.send(
          HttpRequest.newBuilder(URI.create(base + "/cds-services")).build(),
          HttpResponse.BodyHandlers.discarding());
    }
    run("first hook after ready", hook, medianBody, 1, 1);
    run("warm-up", hook, medianBody, concurrency, WARM_UP);
    run("warm-up floor", floor, medianBody, concurrency, WARM_UP);
    compare(base, hook, floor, "median", medianBody, concurrency, requests);
    // The median patient is out of scope (no card): also measure the in-scope patient nearest to
    // it, so that card rendering and the feedback store (card log) are in the figures.
    for (int i = bundles.size() / 2; i < bundles.size(); i++) {
      String body = request(bundles.get(i), false);
      JsonNode cards = JSON.readTree(post(hook, body)).path("cards");
      if (!cards.isEmpty()) {
        System.out.printf(
            "in-scope patient nearest the median: %d entries, cards %s%n",
            bundles.get(i).getEntry().size(), cards.findValuesAsText("summary"));
        run("warm-up in-scope", hook, body, concurrency, WARM_UP / 4);
        compare(base, hook, floor, "in-scope", body, concurrency, requests);
        break;
      }
    }
    run("largest, template prefetch (sequential)", hook, request(largest, false), 1, 20);
    run("largest, every resource (sequential)", hook, request(largest, true), 1, 10);
    run("median again: still answering?", hook, medianBody, 1, 5);
  }

  /** Hook and floor for one request body in alternating rounds; prints each and the medians. */
  static void compare(
      String base,
      String hook,
      String floor,
      String label,
      String body,
      int concurrency,
      int requests)
      throws Exception {
    List<Result> hooks = new ArrayList<>();
    List<Result> floors = new ArrayList<>();
    for (int round = 1; round <= ROUNDS; round++) {
      Map<String, double[]> before = stages(base);
      hooks.add(
          run(
              "hook  (" + label + ", template prefetch) #" + round,
              hook,
              body,
              concurrency,
              requests));
      Map<String, double[]> after = stages(base);
      StringBuilder where = new StringBuilder("  where a hook's time went (server-side means):");
      for (String stage : STAGES) {
        double count = after.get(stage)[0] - before.get(stage)[0];
        double millis = (after.get(stage)[1] - before.get(stage)[1]) * 1000 / Math.max(1, count);
        where.append(String.format(" %s %.2f ms,", stage, millis));
      }
      System.out.println(where.substring(0, where.length() - 1));
      floors.add(
          run(
              "floor (" + label + ", parsed, not evaluated) #" + round,
              floor,
              body,
              concurrency,
              requests));
    }
    Result h = median(hooks);
    Result f = median(floors);
    System.out.printf(
        "%s, median of %d rounds: hook p50 %.2f ms, p99 %.2f ms, %.1f req/s; floor p50 %.2f ms,"
            + " p99 %.2f ms, %.1f req/s%n",
        label, ROUNDS, h.p50(), h.p99(), h.throughput(), f.p50(), f.p99(), f.throughput());
    System.out.printf(
        "%s, ratio hook/floor (medians): p50 %.2f, p99 %.2f, throughput %.2f%n",
        label, h.p50() / f.p50(), h.p99() / f.p99(), h.throughput() / f.throughput());
  }

  static String post(String url, String body) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  record Result(double p50, double p99, double throughput) {}

  /** Hook and floor are measured this many times, alternating; the medians are reported. */
  static final int ROUNDS = 3;

  /** Requests of hook and of floor before the measured rounds (the JIT is still compiling). */
  static final int WARM_UP = 1200;

  /** Each figure's median over the rounds. */
  static Result median(List<Result> results) {
    return new Result(
        median(results.stream().mapToDouble(Result::p50).sorted().toArray()),
        median(results.stream().mapToDouble(Result::p99).sorted().toArray()),
        median(results.stream().mapToDouble(Result::throughput).sorted().toArray()));
  }

  private static double median(double[] sorted) {
    return sorted[sorted.length / 2];
  }

  static final List<String> STAGES = List.of("validate", "data", "cql", "cards", "feedback");

  /** The operator credential benchmarks/run starts the service with (metrics need it). */
  static final String OPERATOR =
      "Basic "
          + java.util.Base64.getEncoder()
              .encodeToString(
                  "bench:bench-operator".getBytes(java.nio.charset.StandardCharsets.UTF_8));

  /** Per stage of an answered hook: {count, total seconds}, from the service's metrics. */
  static Map<String, double[]> stages(String base) throws Exception {
    Map<String, double[]> out = new java.util.LinkedHashMap<>();
    for (String stage : STAGES) {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(
                          base
                              + "/actuator/metrics/cds.hook.stage?tag=stage:"
                              + stage
                              + "&tag=service:back-hip-pain-patient-view"))
                  .header("Authorization", OPERATOR)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      double count = 0;
      double total = 0;
      for (var m : JSON.readTree(response.body()).path("measurements")) {
        if (m.path("statistic").asText().equals("COUNT")) count = m.path("value").asDouble();
        if (m.path("statistic").asText().equals("TOTAL_TIME")) total = m.path("value").asDouble();
      }
      out.put(stage, new double[] {count, total});
    }
    return out;
  }

  static Result run(String name, String url, String body, int concurrency, int total)
      throws Exception {
    Histogram histogram = new Histogram(60_000_000_000L, 3);
    Map<String, AtomicInteger> statuses = new ConcurrentSkipListMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    AtomicInteger left = new AtomicInteger(total);
    long start = System.nanoTime();
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      workers.add(
          pool.submit(
              () -> {
                while (left.getAndDecrement() > 0) {
                  long t0 = System.nanoTime();
                  try {
                    HttpResponse<Void> response =
                        HTTP.send(
                            HttpRequest.newBuilder(URI.create(url))
                                .header("Content-Type", "application/json")
                                .timeout(Duration.ofSeconds(60))
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                            HttpResponse.BodyHandlers.discarding());
                    statuses
                        .computeIfAbsent(
                            String.valueOf(response.statusCode()), k -> new AtomicInteger())
                        .incrementAndGet();
                  } catch (Exception e) {
                    statuses
                        .computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicInteger())
                        .incrementAndGet();
                  }
                  synchronized (histogram) {
                    histogram.recordValue(System.nanoTime() - t0);
                  }
                }
                return null;
              }));
    }
    for (Future<?> w : workers) {
      w.get();
    }
    pool.shutdown();
    double seconds = (System.nanoTime() - start) / 1e9;
    double p50 = histogram.getValueAtPercentile(50) / 1e6;
    double p99 = histogram.getValueAtPercentile(99) / 1e6;
    System.out.printf(
        "%-42s n=%5d c=%2d  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %8.2f ms  %7.1f req/s  status %s%n",
        name,
        total,
        concurrency,
        p50,
        histogram.getValueAtPercentile(90) / 1e6,
        p99,
        histogram.getMaxValue() / 1e6,
        total / seconds,
        statuses);
    return new Result(p50, p99, total / seconds);
  }

  /**
   * The patient-view request an EHR would send for a Synthea patient: prefetch from the service's
   * templates, every resource under its own id, references in {@code Type/id} form (Synthea's
   * bundle-internal {@code urn:uuid:} references and ids are what an EHR's FHIR API never returns).
   */
  static String request(Bundle patient, boolean everything) throws Exception {
    Map<String, List<Resource>> keys = TemplatePrefetch.of(patient, everything);
    Map<String, String> typeById = new java.util.HashMap<>();
    for (Bundle.BundleEntryComponent entry : patient.getEntry()) {
      typeById.put(plainId(entry.getResource()), entry.getResource().fhirType());
    }
    String patientId = plainId(TemplatePrefetch.patient(keys));
    ObjectNode request = JSON.createObjectNode();
    request.put("hook", "patient-view");
    request.put("hookInstance", "bench");
    ObjectNode context = request.putObject("context");
    context.put("userId", "Practitioner/bench");
    context.put("patientId", patientId);
    ObjectNode prefetch = request.putObject("prefetch");
    for (var entry : keys.entrySet()) {
      if (entry.getKey().equals("patient")) {
        prefetch.set("patient", JSON.readTree(encode(entry.getValue().get(0))));
      } else {
        Bundle searchset = new Bundle().setType(Bundle.BundleType.SEARCHSET);
        entry.getValue().forEach(r -> searchset.addEntry().setResource(withPlainId(r)));
        prefetch.set(
            entry.getKey(), JSON.readTree(FHIR.newJsonParser().encodeResourceToString(searchset)));
      }
    }
    Matcher urn = URN_UUID.matcher(request.toString());
    StringBuilder out = new StringBuilder();
    while (urn.find()) {
      String type = typeById.get(urn.group(1));
      urn.appendReplacement(
          out, Matcher.quoteReplacement(type == null ? urn.group() : type + "/" + urn.group(1)));
    }
    urn.appendTail(out);
    return out.toString();
  }

  private static final Pattern URN_UUID = Pattern.compile("urn:uuid:([0-9a-fA-F-]{36})");

  private static String plainId(Resource r) {
    String value = r.getIdElement().getValue();
    return value != null && value.startsWith("urn:uuid:")
        ? value.substring("urn:uuid:".length())
        : r.getIdElement().getIdPart();
  }

  private static Resource withPlainId(Resource r) {
    Resource copy = r.copy();
    copy.setId(plainId(r));
    return copy;
  }

  private static String encode(Resource r) {
    return FHIR.newJsonParser().encodeResourceToString(withPlainId(r));
  }
}
