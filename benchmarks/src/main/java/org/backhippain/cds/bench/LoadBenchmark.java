package org.backhippain.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.backhippain.cds.bench.ChosenPatients.Candidate;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * HTTP load against a running service (bench profile). Patients: the median Synthea patient, and
 * the out-of-scope and the in-scope patient nearest the median size, scope decided by the content's
 * {@code Common."In Scope"} ({@link ChosenPatients}). For each of the two: the patient-view hook
 * with template prefetch and, in the same rounds, two floors — {@code /bench/floor} (the same
 * request validated and parsed into HAPI resources, not evaluated) and {@code /bench/json-floor}
 * (the body read into a JSON tree and nothing more; skipped when the service has none) — at fixed
 * concurrency; HdrHistogram percentiles, throughput and their ratios. Then one hook at a time with
 * the server-side time per stage, the largest patient with template prefetch, and a size series:
 * every resource of patients at evenly spaced ranks of size, sequentially, with a least-squares
 * fit. Figures the issue sets a target for are printed as {@code TARGET} lines ({@link Targets}).
 *
 * <p>Arguments: base URL, concurrency, requests per round, and {@code short} for the constrained
 * run (-Xmx256m): a quarter of the warm-up, no one-at-a-time, size series or targets.
 */
public final class LoadBenchmark {
  static final ObjectMapper JSON = new ObjectMapper();
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final HttpClient HTTP = HttpClient.newBuilder().build();

  public static void main(String[] args) throws Exception {
    String base = args.length > 0 ? args[0] : "http://localhost:8091";
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
    int requests = args.length > 2 ? Integer.parseInt(args[2]) : 400;
    boolean full = !(args.length > 3 && args[3].equals("short"));
    int warmUp = full ? WARM_UP : WARM_UP / 4;
    List<Bundle> bundles =
        SyntheaPatients.bySize(SyntheaPatients.require(Path.of("target/synthea"), 30), FHIR);
    ChosenPatients patients = ChosenPatients.choose(bundles);
    Candidate median = patients.median;
    Candidate largest = patients.largest();
    System.out.printf(
        "Synthea patients: %d; median %d entries, largest %d entries%n",
        bundles.size(), median.entries(), largest.entries());
    System.out.println("median patient:                             " + median.describe());
    System.out.println(
        "out-of-scope patient nearest the median:    " + describe(patients.outOfScope));
    System.out.println("in-scope patient nearest the median:        " + describe(patients.inScope));
    String hook = base + "/cds-services/back-hip-pain-patient-view";
    String floor = base + "/bench/floor/back-hip-pain-patient-view";
    String jsonFloor = base + "/bench/json-floor/back-hip-pain-patient-view";

    // The load generator's own HTTP client is warmed on discovery first, so that the first hook
    // measures the service, not this JVM's first request (as an EHR's client is long warm).
    for (int i = 0; i < 20; i++) {
      HTTP.send(
          HttpRequest.newBuilder(URI.create(base + "/cds-services")).build(),
          HttpResponse.BodyHandlers.discarding());
    }
    run("first hook after ready", hook, median.body(), 1, 1);
    int jsonFloorStatus = status(jsonFloor, median.body());
    if (jsonFloorStatus != 200) {
      System.out.printf(
          "no JSON floor on this service (POST /bench/json-floor/… answered %d): skipped%n",
          jsonFloorStatus);
      jsonFloor = null;
    }
    run("warm-up", hook, median.body(), concurrency, warmUp);
    run("warm-up floor", floor, median.body(), concurrency, warmUp);
    if (jsonFloor != null) {
      run("warm-up JSON floor", jsonFloor, median.body(), concurrency, warmUp);
    }
    // Out of scope: the hook stops at the scope check, so it should cost little over the floor. In
    // scope: cards rendered and logged (feedback store), so those are in the figures too.
    Map<Candidate, Comparison> compared = new LinkedHashMap<>();
    for (Candidate c : new Candidate[] {patients.outOfScope, patients.inScope}) {
      if (c == null) {
        continue;
      }
      String label = c.inScope() ? "in-scope" : "out-of-scope";
      if (c != median) {
        run("warm-up " + label, hook, c.body(), concurrency, warmUp / 4);
      }
      compared.put(
          c, compare(base, hook, floor, jsonFloor, label, c.body(), concurrency, requests));
    }
    Comparison atMedian = compared.get(median);
    System.out.printf(
        "median patient (%s): hook throughput %.1f req/s at %d concurrent (median of %d rounds)%n",
        median.inScope() ? "the in-scope one" : "the out-of-scope one",
        atMedian.hook().throughput(),
        concurrency,
        ROUNDS);
    if (full) {
      targets(patients, compared, concurrency);
      oneAtATime(base, hook, patients);
    }
    run("largest, template prefetch (sequential)", hook, largest.body(), 1, 20);
    if (full) {
      sizeSeries(hook, patients);
    } else {
      // At -Xmx256m the body budget refuses it (413): a defined answer, and the service goes on.
      run("largest, every resource (sequential)", hook, request(largest.bundle(), true), 1, 3);
    }
    run("median again: still answering?", hook, median.body(), 1, 5);
  }

  private static String describe(Candidate c) {
    return c == null ? "none among the generated patients" : c.describe();
  }

  /** The ratio and throughput targets, from the medians of the rounds. */
  private static void targets(
      ChosenPatients patients, Map<Candidate, Comparison> compared, int concurrency) {
    Comparison out = compared.get(patients.outOfScope);
    Comparison in = compared.get(patients.inScope);
    String none = "no such patient";
    if (out == null) {
      Targets.unchecked("hook/floor p50, out-of-scope patient", none, "≤ 1.15");
    } else {
      Targets.atMost(
          "hook/floor p50, out-of-scope patient",
          "%.2f",
          out.hook().p50() / out.floor().p50(),
          1.15);
    }
    if (in == null) {
      Targets.unchecked("hook/floor p50, in-scope patient", none, "≤ 1.4");
      Targets.unchecked("hook/JSON floor p50, in-scope patient", none, "≤ 2");
    } else {
      Targets.atMost(
          "hook/floor p50, in-scope patient", "%.2f", in.hook().p50() / in.floor().p50(), 1.4);
      if (in.json() == null) {
        Targets.unchecked("hook/JSON floor p50, in-scope patient", "no JSON floor", "≤ 2");
      } else {
        Targets.atMost(
            "hook/JSON floor p50, in-scope patient", "%.2f", in.hook().p50() / in.json().p50(), 2);
      }
    }
    Targets.atLeast(
        "hooks/s, median patient, " + concurrency + " concurrent",
        "%.1f",
        compared.get(patients.median).hook().throughput(),
        250);
  }

  /**
   * One hook at a time, warm: end-to-end latency (median patient, in-scope patient) and, for the
   * in-scope patient, the server-side time — the sum of the {@code cds.hook.stage} means.
   */
  private static void oneAtATime(String base, String hook, ChosenPatients patients)
      throws Exception {
    run("one hook at a time (median patient)", hook, patients.median.body(), 1, 100);
    if (patients.inScope == null) {
      Targets.unchecked("server-side time, one hook alone, in-scope patient", "none", "≤ 4 ms");
      return;
    }
    String body = patients.inScope.body();
    run("warm-up one at a time (in-scope)", hook, body, 1, 100);
    Map<String, double[]> before = stages(base);
    run("one hook at a time (in-scope patient)", hook, body, 1, SEQUENTIAL);
    Map<String, double[]> after = stages(base);
    Map<String, Double> means = stageMeans(before, after);
    double sum = means.values().stream().mapToDouble(Double::doubleValue).sum();
    System.out.printf(
        "  server-side, one hook alone (in-scope, %d requests): %s; sum %.2f ms%n",
        SEQUENTIAL, formatStages(means), sum);
    Targets.atMost(
        "server-side time (sum of stage means), one hook alone, in-scope patient",
        "%.2f ms",
        sum,
        4);
  }

  /**
   * Every resource of patients at evenly spaced ranks of size, one request at a time: p50 by
   * request size, and a least-squares line through them. The series runs from the smallest patient
   * to the largest whose every-resource request the service accepts (a larger body is refused with
   * 413 by {@code cds.max-request-bytes}; those are named): that patient is the "largest patient"
   * of the target.
   */
  private static void sizeSeries(String hook, ChosenPatients patients) throws Exception {
    int highest = patients.bySize.size() - 1;
    String largestBody = request(patients.bySize.get(highest), true);
    for (int status; (status = status(hook, largestBody)) != 200; ) {
      System.out.printf(
          "size series: rank %d (%d entries, every resource %s) answered %d: left out%n",
          highest,
          patients.bySize.get(highest).getEntry().size(),
          ChosenPatients.mib(largestBody),
          status);
      if (--highest < 0) {
        Targets.unchecked(
            "largest patient, every resource, sequential p50", "none answered", "≤ 100 ms");
        return;
      }
      largestBody = request(patients.bySize.get(highest), true);
    }
    List<Candidate> series = patients.spread(SERIES, highest);
    double[] mib = new double[series.size()];
    double[] p50 = new double[series.size()];
    List<String> rows = new ArrayList<>();
    Result largest = null;
    for (int i = 0; i < series.size(); i++) {
      Candidate c = series.get(i);
      String body = c.rank() == highest ? largestBody : request(c.bundle(), true);
      mib[i] = body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length / (1024.0 * 1024);
      run("warm-up size series, rank " + c.rank(), hook, body, 1, 5);
      Result r =
          run(
              "size series, rank " + c.rank() + ", every resource (sequential)",
              hook,
              body,
              1,
              SERIES_REQUESTS);
      p50[i] = r.p50();
      rows.add(
          Targets.fmt(
              "  %5d %8d %9.0f %8.2f %9.2f %9.2f",
              c.rank(), c.entries(), mib[i] * 1024, mib[i], r.p50(), r.p99()));
      largest = r;
    }
    System.out.printf(
        "size series: every resource, sequential, %d requests each after 5 warm-up%n",
        SERIES_REQUESTS);
    System.out.println("   rank  entries       KiB      MiB   p50 ms    p99 ms");
    rows.forEach(System.out::println);
    double[] fit = fit(mib, p50);
    String line =
        Targets.fmt(
            "p50 = %.2f ms + %.2f ms/MiB × size, R² %.3f (%d patients)",
            fit[1], fit[0], fit[2], series.size());
    System.out.println("  least squares: " + line);
    Candidate top = series.get(series.size() - 1);
    Targets.atMost(
        Targets.fmt(
            "largest patient%s, every resource (%d entries, %.1f MiB), sequential p50",
            highest == patients.bySize.size() - 1 ? "" : " answered (larger ones 413)",
            top.entries(),
            mib[mib.length - 1]),
        "%.1f ms",
        largest.p50(),
        100);
    Targets.unchecked("size series (every resource, sequential p50)", line, "linear (reported)");
  }

  /** Least squares y = a + b·x: {slope b, intercept a, R²}. */
  static double[] fit(double[] x, double[] y) {
    int n = x.length;
    double mx = java.util.Arrays.stream(x).average().orElse(0);
    double my = java.util.Arrays.stream(y).average().orElse(0);
    double sxy = 0;
    double sxx = 0;
    double syy = 0;
    for (int i = 0; i < n; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
    double slope = sxx == 0 ? 0 : sxy / sxx;
    double intercept = my - slope * mx;
    double residual = 0;
    for (int i = 0; i < n; i++) {
      double e = y[i] - (intercept + slope * x[i]);
      residual += e * e;
    }
    return new double[] {slope, intercept, syy == 0 ? 1 : 1 - residual / syy};
  }

  /** One round's hook and floors; {@code json} is null when the service has no JSON floor. */
  record Comparison(Result hook, Result floor, Result json) {}

  /**
   * Hook, floor and JSON floor for one request body in alternating rounds; prints each round, the
   * server-side time per stage of the round's hooks, and the medians and their ratios.
   */
  static Comparison compare(
      String base,
      String hook,
      String floor,
      String jsonFloor,
      String label,
      String body,
      int concurrency,
      int requests)
      throws Exception {
    List<Result> hooks = new ArrayList<>();
    List<Result> floors = new ArrayList<>();
    List<Result> jsons = new ArrayList<>();
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
      System.out.println(
          "  where a hook's time went (server-side means): "
              + formatStages(stageMeans(before, after)));
      floors.add(
          run(
              "floor (" + label + ", parsed, not evaluated) #" + round,
              floor,
              body,
              concurrency,
              requests));
      if (jsonFloor != null) {
        jsons.add(
            run(
                "JSON floor (" + label + ", JSON tree only) #" + round,
                jsonFloor,
                body,
                concurrency,
                requests));
      }
    }
    Result h = median(hooks);
    Result f = median(floors);
    Result j = jsons.isEmpty() ? null : median(jsons);
    System.out.printf(
        "%s, median of %d rounds: hook p50 %.2f ms, p99 %.2f ms, %.1f req/s; floor p50 %.2f ms,"
            + " p99 %.2f ms, %.1f req/s%s%n",
        label,
        ROUNDS,
        h.p50(),
        h.p99(),
        h.throughput(),
        f.p50(),
        f.p99(),
        f.throughput(),
        j == null
            ? ""
            : Targets.fmt(
                "; JSON floor p50 %.2f ms, p99 %.2f ms, %.1f req/s",
                j.p50(), j.p99(), j.throughput()));
    System.out.printf(
        "%s, ratio hook/floor (medians): p50 %.2f, p99 %.2f, throughput %.2f%n",
        label, h.p50() / f.p50(), h.p99() / f.p99(), h.throughput() / f.throughput());
    if (j != null) {
      System.out.printf(
          "%s, ratio hook/JSON floor (medians): p50 %.2f, p99 %.2f, throughput %.2f%n",
          label, h.p50() / j.p50(), h.p99() / j.p99(), h.throughput() / j.throughput());
    }
    return new Comparison(h, f, j);
  }

  /** Per stage, the mean server-side milliseconds of the hooks answered between two readings. */
  static Map<String, Double> stageMeans(Map<String, double[]> before, Map<String, double[]> after) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String stage : STAGES) {
      double count = after.get(stage)[0] - before.get(stage)[0];
      out.put(stage, (after.get(stage)[1] - before.get(stage)[1]) * 1000 / Math.max(1, count));
    }
    return out;
  }

  static String formatStages(Map<String, Double> means) {
    StringBuilder out = new StringBuilder();
    means.forEach(
        (stage, ms) ->
            out.append(Targets.fmt("%s%s %.2f ms", out.isEmpty() ? "" : ", ", stage, ms)));
    return out.toString();
  }

  static int status(String url, String body) throws Exception {
    return HTTP.send(postOf(url, body), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  static String post(String url, String body) throws Exception {
    return HTTP.send(postOf(url, body), HttpResponse.BodyHandlers.ofString()).body();
  }

  static HttpRequest postOf(String url, String body) {
    return HttpRequest.newBuilder(URI.create(url))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  record Result(double p50, double p99, double throughput) {}

  /** Hook and floor are measured this many times, alternating; the medians are reported. */
  static final int ROUNDS = 3;

  /** Requests of hook and of each floor before the measured rounds (the JIT is still compiling). */
  static final int WARM_UP = 1200;

  /** Sequential requests measured for the server-side time of one hook alone. */
  static final int SEQUENTIAL = 200;

  /** Patients in the size series, and requests measured for each. */
  static final int SERIES = 6;

  static final int SERIES_REQUESTS = 20;

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
