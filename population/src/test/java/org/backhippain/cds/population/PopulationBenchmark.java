package org.backhippain.cds.population;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;

/**
 * The population run's benchmark (population/bench; not a test): patients per second per core of
 * the Spark job (local[N], everything from reading the files to writing the worklist), of a plain
 * single-threaded loop over the same patients already grouped in memory (the same per-patient
 * evaluation, nothing else; and the same with its single-threaded reading and grouping counted),
 * and of the patient-view hook called over HTTP for the same patients (request bodies built before
 * the clock starts, prefetch as the service's templates ask); then the Spark job at 1x, 4x and 16x
 * the cohort, replicated on read, to show the cost is linear. Patients counted are those evaluated
 * (alive on the date) in every figure.
 *
 * <p>Arguments: export folders (comma-separated), as-of date, hook URL (or "-" to skip), HTTP
 * concurrency, Spark cores, replicas (comma-separated), output folder.
 */
public final class PopulationBenchmark {
  private PopulationBenchmark() {}

  /**
   * One measured path: patients evaluated, wall seconds on how many cores, and the CPU seconds the
   * process doing the work used meanwhile (the machine's cores may be shared with other work: CPU
   * seconds are the per-core cost that sharing does not blur).
   */
  record Row(String path, long patients, double wall, int cores, double cpu) {
    double perCore() {
      return patients / wall / cores;
    }

    double perCpuSecond() {
      return patients / cpu;
    }
  }

  /** CPU seconds a process has used so far (NaN when the platform cannot say). */
  static double cpu(long pid) {
    return ProcessHandle.of(pid)
        .flatMap(h -> h.info().totalCpuDuration())
        .map(d -> d.toNanos() / 1e9)
        .orElse(Double.NaN);
  }

  public static void main(String[] args) throws Exception {
    List<String> exports = List.of(args[0].split(","));
    LocalDate asOf = LocalDate.parse(args[1]);
    String hook = args[2];
    int concurrency = Integer.parseInt(args[3]);
    int cores = Integer.parseInt(args[4]);
    List<Integer> replicas = new ArrayList<>();
    for (String r : args[5].split(",")) {
      replicas.add(Integer.parseInt(r));
    }
    Path output = Path.of(args[6]);
    long self = ProcessHandle.current().pid();
    long service = Long.getLong("bench.service.pid", -1);
    int machine = Runtime.getRuntime().availableProcessors();
    List<Row> rows = new ArrayList<>();

    EvaluationSettings settings = new EvaluationSettings(asOf, "UTC", Map.of(), java.util.Set.of());
    PatientEvaluator evaluator = PatientEvaluator.of(settings);
    ContentScope scope =
        ContentScope.of(PatientEvaluator.Content.get(), PatientEvaluator.Content.FHIR);
    long t0 = System.nanoTime();
    double c0 = cpu(self);
    Map<String, List<ExportLine>> groups = group(exports, scope);
    List<String> patients =
        groups.entrySet().stream()
            .filter(e -> e.getValue().stream().anyMatch(l -> l.getType().equals("Patient")))
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    long lines = groups.values().stream().mapToLong(List::size).sum();
    double groupWall = (System.nanoTime() - t0) / 1e9;
    double groupCpu = cpu(self) - c0;
    System.out.printf(
        Locale.ROOT,
        "cohort: %,d patients, %,d resources read after the prefetch filters, read and grouped in"
            + " %.1f s (1 thread)%n",
        patients.size(),
        lines,
        groupWall);

    // Plain loop: one thread, warm-up pass over the first 200 patients, then every patient.
    InputLog log = new InputLog();
    LongAccumulator counter = new LongAccumulator();
    for (String id : patients.subList(0, Math.min(200, patients.size()))) {
      evaluator.evaluate(id, groups.get(id).iterator(), log, counter);
    }
    // Every figure counts the patients evaluated (alive on the date), as the Spark job's tally
    // does; the plain loop still goes through the others (deceased: a parse and a date check).
    long start = System.nanoTime();
    double c1 = cpu(self);
    int cards = 0;
    List<String> evaluated = new ArrayList<>();
    for (String id : patients) {
      PatientOutcome outcome = evaluator.evaluate(id, groups.get(id).iterator(), log, counter);
      cards += outcome.getHits().size();
      if (PatientOutcome.PATIENT.equals(outcome.getKind())) {
        evaluated.add(id);
      }
    }
    Row plain =
        new Row(
            "plain loop (grouped in memory)",
            evaluated.size(),
            (System.nanoTime() - start) / 1e9,
            1,
            cpu(self) - c1);
    rows.add(plain);
    rows.add(
        new Row(
            "plain read + group + loop",
            evaluated.size(),
            groupWall + plain.wall(),
            1,
            groupCpu + plain.cpu()));
    System.out.printf(
        Locale.ROOT,
        "plain loop (1 thread, warm): %,d patients evaluated, %.1f patients/s (%,d cards)%n",
        evaluated.size(),
        plain.perCore(),
        cards);

    Row http = null;
    if (!hook.equals("-")) {
      List<String> bodies = new ArrayList<>(evaluated.size());
      for (String id : evaluated) {
        bodies.add(request(id, groups.get(id)));
      }
      groups = null;
      http = http(hook, bodies, concurrency, service, machine);
      rows.add(http);
      bodies = null;
    }
    groups = null;

    SparkSession spark =
        SparkSession.builder()
            .master("local[" + cores + "]")
            .appName("population benchmark")
            .config("spark.ui.enabled", false)
            .config("spark.local.dir", output.resolve("spark-local").toAbsolutePath().toString())
            .getOrCreate();
    PopulationRun.tune(spark);
    Row base = null;
    for (int i = 0; i < replicas.size(); i++) {
      int n = replicas.get(i);
      List<String> arguments = new ArrayList<>();
      exports.forEach(e -> arguments.addAll(List.of("--input", e)));
      arguments.addAll(
          List.of(
              "--output", output.resolve("spark-" + n + "x-" + i).toString(),
              "--as-of", asOf.toString(),
              "--replicate", String.valueOf(n),
              "--progress-seconds", "30"));
      RunOptions options = RunOptions.parse(arguments.toArray(String[]::new));
      long s = System.nanoTime();
      double c = cpu(self);
      PopulationJob.Result result = PopulationJob.run(spark, options);
      Row row =
          new Row(
              "spark local[" + cores + "], " + n + "x (run " + (i + 1) + ")",
              result.tally().patients,
              (System.nanoTime() - s) / 1e9,
              cores,
              cpu(self) - c);
      rows.add(row);
      System.out.printf(
          Locale.ROOT,
          "%s: %,d patients in %.1f s: %.1f patients/s/core, %.1f per CPU-second%n",
          row.path(),
          row.patients(),
          row.wall(),
          row.perCore(),
          row.perCpuSecond());
      if (n == 1) {
        base = row;
      }
    }
    spark.stop();

    System.out.println("== figures (patients = patients evaluated) ==");
    System.out.printf(
        Locale.ROOT,
        "%-36s %9s %9s %6s %10s %10s %12s %14s%n",
        "path",
        "patients",
        "wall s",
        "cores",
        "/s/core",
        "CPU s",
        "/CPU-second",
        "CPU s / 1,000");
    for (Row r : rows) {
      System.out.printf(
          Locale.ROOT,
          "%-36s %,9d %9.1f %6d %10.1f %10.1f %12.1f %14.1f%n",
          r.path(),
          r.patients(),
          r.wall(),
          r.cores(),
          r.perCore(),
          r.cpu(),
          r.perCpuSecond(),
          r.cpu() * 1000 / r.patients());
    }
    if (base != null) {
      ratio("spark 1x (last run) / plain loop", base, plain, "target >= 0.7");
      ratio("spark 1x (last run) / plain read + group + loop", base, rows.get(1), "");
      if (http != null) {
        ratio("spark 1x (last run) / HTTP hook", base, http, "target >= 3");
      }
    }
  }

  static void ratio(String what, Row a, Row b, String target) {
    System.out.printf(
        Locale.ROOT,
        "ratio %s: %.2f per core of wall time, %.2f per CPU-second%s%n",
        what,
        a.perCore() / b.perCore(),
        a.perCpuSecond() / b.perCpuSecond(),
        target.isEmpty() ? "" : " (" + target + ")");
  }

  /**
   * The export grouped by patient in memory (the plain loop's input): the same routing, no Spark.
   */
  static Map<String, List<ExportLine>> group(List<String> exports, ContentScope scope)
      throws Exception {
    InputPlan plan = InputPlan.of(exports, scope, new Configuration());
    InputLog log = new InputLog();
    LineRouter router = new LineRouter(scope, 1, log, new LongAccumulator());
    Map<String, List<ExportLine>> groups = new HashMap<>();
    Map<String, ExportLine> medications = new HashMap<>();
    List<ExportLine> needs = new ArrayList<>();
    for (int i = 0; i < plan.files().size(); i++) {
      InputPlan.InputFile file = plan.files().get(i);
      int index = i;
      try (InputStream raw = Files.newInputStream(Path.of(URI.create(file.path())));
          InputStream in = file.path().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
          BufferedReader reader =
              new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        if (file.format() == InputPlan.Format.BUNDLE) {
          router.bundle(
              raw, index, l -> groups.computeIfAbsent(l.getKey(), k -> new ArrayList<>()).add(l));
          continue;
        }
        String line;
        while ((line = reader.readLine()) != null) {
          router.line(
              line,
              index,
              0,
              LineRouter.Mode.MAIN,
              l -> groups.computeIfAbsent(l.getKey(), k -> new ArrayList<>()).add(l));
          router.line(
              line,
              index,
              0,
              LineRouter.Mode.JOIN,
              l -> {
                if (l.getKind().equals(ExportLine.MEDICATION)) {
                  medications.put(l.getKey(), l);
                } else {
                  needs.add(l);
                }
              });
        }
      }
    }
    for (ExportLine need : needs) {
      ExportLine med = medications.get(need.getKey());
      if (med != null) {
        groups
            .computeIfAbsent(need.getJson(), k -> new ArrayList<>())
            .add(
                new ExportLine(
                    need.getJson(),
                    ExportLine.RESOURCE,
                    "Medication",
                    med.getJson(),
                    med.getFile(),
                    0));
      }
    }
    return groups;
  }

  /** A patient-view request with the prefetch the service's templates ask for, from the group. */
  static String request(String id, List<ExportLine> group) {
    Map<String, List<String>> keys = new LinkedHashMap<>();
    for (String key :
        List.of(
            "conditions",
            "observations",
            "medications",
            "serviceRequests",
            "procedures",
            "coverage")) {
      keys.put(key, new ArrayList<>());
    }
    String patient = null;
    for (ExportLine line : group) {
      switch (line.getType()) {
        case "Patient" -> patient = line.getJson();
        case "Condition" -> keys.get("conditions").add(line.getJson());
        case "Observation" -> keys.get("observations").add(line.getJson());
        case "MedicationRequest", "Medication" -> keys.get("medications").add(line.getJson());
        case "ServiceRequest" -> keys.get("serviceRequests").add(line.getJson());
        case "Procedure" -> keys.get("procedures").add(line.getJson());
        case "Coverage" -> keys.get("coverage").add(line.getJson());
        default -> {}
      }
    }
    StringBuilder body =
        new StringBuilder("{\"hook\":\"patient-view\",\"hookInstance\":\"")
            .append(UUID.randomUUID())
            .append("\",\"context\":{\"userId\":\"Practitioner/bench\",\"patientId\":\"")
            .append(id)
            .append("\"},\"prefetch\":{\"patient\":")
            .append(patient);
    keys.forEach(
        (key, resources) -> {
          body.append(",\"")
              .append(key)
              .append("\":{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[");
          for (int i = 0; i < resources.size(); i++) {
            body.append(i == 0 ? "" : ",")
                .append("{\"resource\":")
                .append(resources.get(i))
                .append('}');
          }
          body.append("]}");
        });
    return body.append("}}").toString();
  }

  /**
   * Every body sent once (after a warm-up of 200) by concurrent clients: the service on all the
   * machine's cores, its CPU seconds read from its process (the clients' own are not counted).
   */
  static Row http(String url, List<String> bodies, int concurrency, long service, int machine)
      throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    send(client, pool, url, bodies.subList(0, Math.min(200, bodies.size())));
    long start = System.nanoTime();
    double c = service > 0 ? cpu(service) : Double.NaN;
    int errors = send(client, pool, url, bodies);
    Row row =
        new Row(
            "HTTP patient-view hook (" + concurrency + " clients)",
            bodies.size(),
            (System.nanoTime() - start) / 1e9,
            machine,
            service > 0 ? cpu(service) - c : Double.NaN);
    pool.shutdown();
    System.out.printf(
        Locale.ROOT,
        "HTTP patient-view hook, %d concurrent clients on the same cores: %.1f patients/s, %d"
            + " errors%n",
        concurrency,
        bodies.size() / row.wall(),
        errors);
    return row;
  }

  private static int send(HttpClient client, ExecutorService pool, String url, List<String> bodies)
      throws Exception {
    AtomicInteger errors = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (String body : bodies) {
      futures.add(
          pool.submit(
              () -> {
                try {
                  HttpResponse<Void> response =
                      client.send(
                          HttpRequest.newBuilder(URI.create(url))
                              .timeout(Duration.ofSeconds(60))
                              .header("Content-Type", "application/json")
                              .POST(HttpRequest.BodyPublishers.ofString(body))
                              .build(),
                          HttpResponse.BodyHandlers.discarding());
                  if (response.statusCode() != 200) {
                    errors.incrementAndGet();
                  }
                } catch (Exception e) {
                  errors.incrementAndGet();
                }
              }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    return errors.get();
  }
}
