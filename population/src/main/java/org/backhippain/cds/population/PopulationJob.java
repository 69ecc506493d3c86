package org.backhippain.cds.population;

import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.spark.api.java.JavaNewHadoopRDD;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * The population dry run as one Spark job: the export's files read in parallel (Spark's own input
 * splits; one task per Bundle file), each resource routed to its patient ({@link LineRouter}),
 * Medications joined to the requests that name them, every patient's resources grouped by Spark
 * ({@code groupByKey}) and evaluated by the service's rule engine ({@link PatientEvaluator}), the
 * outcomes counted ({@link Tally}) and the worklist written ({@link Worklist}).
 */
final class PopulationJob {
  private static final Logger log = LoggerFactory.getLogger(PopulationJob.class);
  private static final Encoder<ExportLine> LINE = Encoders.bean(ExportLine.class);
  private static final Encoder<PatientOutcome> OUTCOME = Encoders.bean(PatientOutcome.class);

  /** Without these the service answers 412 (clinical spec §2). */
  static final Set<String> REQUIRED = Set.of("patient", "conditions");

  /** What a run found and counted. */
  record Result(
      RunOptions options,
      InputPlan plan,
      EvaluationSettings settings,
      Tally tally,
      InputLog.Counts input,
      Map<String, List<Long>> problemLines,
      long linesRead,
      long seconds,
      RuleEngine engine) {

    /** Whether any input was skipped: bad lines, missing files, unknown patients. */
    boolean skipped() {
      return !plan.missing().isEmpty() || input.problemTotal() > 0 || tally.unknownPatients > 0;
    }
  }

  private PopulationJob() {}

  static Result run(SparkSession spark, RunOptions options) {
    long start = System.nanoTime();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    ContentPackage content = PatientEvaluator.Content.get();
    ContentScope scope = ContentScope.of(content, PatientEvaluator.Content.FHIR);
    InputPlan plan = InputPlan.of(options.inputs(), scope, jsc.hadoopConfiguration());
    Set<String> unavailable = new LinkedHashSet<>(options.unavailable());
    if (plan.requestedTypes() != null) {
      unavailable.addAll(scope.unavailableKeys(plan.requestedTypes()));
    }
    for (String key : unavailable) {
      if (!scope.keyTypes().containsKey(key)) {
        throw new IllegalArgumentException(
            "unknown prefetch key " + key + " (one of " + scope.keyTypes().keySet() + ")");
      }
      if (REQUIRED.contains(key)) {
        throw new IllegalArgumentException(
            "the export cannot give '" + key + "': the service would answer 412 for every patient");
      }
    }
    EvaluationSettings settings =
        new EvaluationSettings(
            options.asOf(), options.zone(), options.siteParameters(), unavailable);
    // Loads the content and checks the site parameters on the driver before any task starts (in
    // local mode the executors then share this evaluator).
    RuleEngine engine = PatientEvaluator.of(settings).engine();
    log.info(
        "input: {} files to read, {} missing, {} of types not read; evaluated as of {} ({})",
        plan.files().size(),
        plan.missing().size(),
        plan.notRead().values().stream().mapToInt(Integer::intValue).sum(),
        options.asOf(),
        options.zone());

    partitions(spark, plan, options.replicate());
    InputLog inputLog = new InputLog();
    spark.sparkContext().register(inputLog, "input log");
    LongAccumulator lines = spark.sparkContext().longAccumulator("lines read");
    LongAccumulator found = spark.sparkContext().longAccumulator("patients found");
    LongAccumulator processed = spark.sparkContext().longAccumulator("patients processed");
    LineRouter router = new LineRouter(scope, options.replicate(), inputLog, found);

    Dataset<ExportLine> resources = read(spark, jsc, plan, router, inputLog, lines);
    Dataset<PatientOutcome> outcomes =
        resources
            .groupByKey((MapFunction<ExportLine, String>) ExportLine::getKey, Encoders.STRING())
            .flatMapGroups(
                (FlatMapGroupsFunction<String, ExportLine, PatientOutcome>)
                    (key, group) ->
                        List.of(
                                PatientEvaluator.of(settings)
                                    .evaluate(key, group, inputLog, processed))
                            .iterator(),
                OUTCOME)
            .persist(StorageLevel.MEMORY_AND_DISK());

    Tally tally;
    try (Progress progress = Progress.start(options.progressSeconds(), lines, found, processed)) {
      tally =
          outcomes.toJavaRDD().mapPartitions(Tally::of).collect().stream()
              .reduce(new Tally(), Tally::merge);
      Worklist.write(
          spark,
          outcomes,
          options.output(),
          tally.cardCount.values().stream().mapToLong(Long::longValue).sum());
      progress.done(tally.patients);
    } finally {
      outcomes.unpersist();
    }
    InputLog.Counts input = inputLog.value();
    Map<String, List<Long>> problemLines = LineNumbers.of(plan, input, jsc.hadoopConfiguration());
    return new Result(
        options,
        plan,
        settings,
        tally,
        input,
        problemLines,
        lines.value(),
        (System.nanoTime() - start) / 1_000_000_000,
        engine);
  }

  /** Bytes of input per evaluation task (when the shuffle's partitions are not configured). */
  static final long BYTES_PER_PARTITION = 4L << 20;

  /**
   * Each patient costs milliseconds of CPU, so the evaluation wants tasks of a few patients each,
   * several per core (load balance, progress): unless {@code spark.sql.shuffle.partitions} was
   * configured, one partition per 4 MiB of input (times the replicas), at least 4 per core, at most
   * 4,000.
   */
  static void partitions(SparkSession spark, InputPlan plan, int replicas) {
    if (spark.sparkContext().getConf().contains("spark.sql.shuffle.partitions")) {
      return;
    }
    long bytes = 0;
    for (InputPlan.InputFile file : plan.files()) {
      try {
        org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file.path());
        bytes +=
            path.getFileSystem(spark.sparkContext().hadoopConfiguration())
                .getFileStatus(path)
                .getLen();
      } catch (java.io.IOException e) {
        // counted as empty; the reader reports it
      }
    }
    long wanted = bytes * replicas / BYTES_PER_PARTITION;
    long partitions =
        Math.min(4000, Math.max(4L * spark.sparkContext().defaultParallelism(), wanted));
    spark.conf().set("spark.sql.shuffle.partitions", String.valueOf(partitions));
  }

  /**
   * Every resource the run reads, keyed by its patient (organisations by {@code Organization/id}),
   * Medications already joined to the patients whose requests name them.
   */
  static Dataset<ExportLine> read(
      SparkSession spark,
      JavaSparkContext jsc,
      InputPlan plan,
      LineRouter router,
      InputLog inputLog,
      LongAccumulator lines) {
    List<Integer> ndjson = new ArrayList<>();
    List<Integer> bundles = new ArrayList<>();
    for (int i = 0; i < plan.files().size(); i++) {
      (plan.files().get(i).format() == InputPlan.Format.NDJSON ? ndjson : bundles).add(i);
    }
    JavaRDD<ExportLine> main =
        ndjson(jsc, plan, ndjson, router, LineRouter.Mode.MAIN, inputLog, lines)
            .union(bundles(jsc, plan, bundles, router, inputLog));
    Dataset<ExportLine> all = spark.createDataset(main.rdd(), LINE);
    List<Integer> medicationFiles = plan.medicationFiles();
    if (!medicationFiles.isEmpty()) {
      Dataset<ExportLine> needs =
          spark.createDataset(
              ndjson(jsc, plan, medicationFiles, router, LineRouter.Mode.JOIN, inputLog, lines)
                  .rdd(),
              LINE);
      Dataset<ExportLine> medications =
          needs
              .groupByKey((MapFunction<ExportLine, String>) ExportLine::getKey, Encoders.STRING())
              .flatMapGroups(
                  (FlatMapGroupsFunction<String, ExportLine, ExportLine>)
                      (id, group) -> joinMedication(group, inputLog),
                  LINE);
      all = all.union(medications);
    }
    return all;
  }

  /** A Medication sent to every patient whose requests name it. */
  static Iterator<ExportLine> joinMedication(Iterator<ExportLine> group, InputLog inputLog) {
    ExportLine medication = null;
    Set<String> patients = new LinkedHashSet<>();
    while (group.hasNext()) {
      ExportLine line = group.next();
      if (line.getKind().equals(ExportLine.MEDICATION)) {
        medication = medication == null ? line : medication;
      } else {
        patients.add(line.getJson());
      }
    }
    List<ExportLine> out = new ArrayList<>(patients.size());
    if (medication == null) {
      patients.forEach(p -> inputLog.add(InputLog.Event.medicationNotFound()));
      return out.iterator();
    }
    for (String patient : patients) {
      out.add(
          new ExportLine(
              patient,
              ExportLine.RESOURCE,
              medication.getType(),
              medication.getJson(),
              medication.getFile(),
              medication.getPosition()));
    }
    return out.iterator();
  }

  /** The files' paths (in order) to their indexes in the plan. */
  private static LinkedHashMap<String, Integer> index(InputPlan plan, List<Integer> files) {
    LinkedHashMap<String, Integer> index = new LinkedHashMap<>();
    for (int i : files) {
      index.put(plan.files().get(i).path(), i);
    }
    return index;
  }

  private static JavaRDD<ExportLine> ndjson(
      JavaSparkContext jsc,
      InputPlan plan,
      List<Integer> files,
      LineRouter router,
      LineRouter.Mode mode,
      InputLog inputLog,
      LongAccumulator lines) {
    if (files.isEmpty()) {
      return jsc.emptyRDD();
    }
    LinkedHashMap<String, Integer> index = index(plan, files);
    Configuration conf = new Configuration(jsc.hadoopConfiguration());
    JavaPairRDD<LongWritable, Text> raw =
        jsc.newAPIHadoopFile(
            String.join(",", index.keySet()),
            TextInputFormat.class,
            LongWritable.class,
            Text.class,
            conf);
    return ((JavaNewHadoopRDD<LongWritable, Text>) raw)
        .mapPartitionsWithInputSplit(
            (split, source) -> {
              String path = ((FileSplit) split).getPath().toString();
              int file = index.getOrDefault(path, -1);
              return new RoutedLines(source, file, router, mode, inputLog, lines);
            },
            false);
  }

  private static JavaRDD<ExportLine> bundles(
      JavaSparkContext jsc,
      InputPlan plan,
      List<Integer> files,
      LineRouter router,
      InputLog inputLog) {
    if (files.isEmpty()) {
      return jsc.emptyRDD();
    }
    LinkedHashMap<String, Integer> index = index(plan, files);
    JavaPairRDD<String, PortableDataStream> raw =
        jsc.binaryFiles(String.join(",", index.keySet()), jsc.defaultParallelism());
    return raw.flatMap(
        (Tuple2<String, PortableDataStream> t) -> {
          int file = index.getOrDefault(t._1(), -1);
          List<ExportLine> out = new ArrayList<>();
          try (InputStream in = t._2().open()) {
            router.bundle(in, file, out::add);
          } catch (Exception e) {
            inputLog.add(InputLog.Event.problem(InputLog.UNREADABLE, file, 0));
          }
          return out.iterator();
        });
  }

  /**
   * Lines of one input split, routed lazily; an I/O or decompression error ends the split (reported
   * with the last good position) instead of failing the job.
   */
  static final class RoutedLines implements Iterator<ExportLine> {
    private final Iterator<Tuple2<LongWritable, Text>> source;
    private final int file;
    private final LineRouter router;
    private final LineRouter.Mode mode;
    private final InputLog inputLog;
    private final LongAccumulator lines;
    private final ArrayDeque<ExportLine> buffer = new ArrayDeque<>();
    private long position;
    private boolean ended;

    RoutedLines(
        Iterator<Tuple2<LongWritable, Text>> source,
        int file,
        LineRouter router,
        LineRouter.Mode mode,
        InputLog inputLog,
        LongAccumulator lines) {
      this.source = source;
      this.file = file;
      this.router = router;
      this.mode = mode;
      this.inputLog = inputLog;
      this.lines = lines;
    }

    @Override
    public boolean hasNext() {
      while (buffer.isEmpty() && !ended) {
        try {
          if (!source.hasNext()) {
            ended = true;
            break;
          }
          Tuple2<LongWritable, Text> line = source.next();
          position = line._1().get();
          if (mode == LineRouter.Mode.MAIN) {
            lines.add(1);
          }
          router.line(line._2().toString(), file, position, mode, buffer::add);
        } catch (Exception e) {
          // Hadoop's reader throws IOException unchecked (a truncated gzip, a lost block).
          ended = true;
          if (mode == LineRouter.Mode.MAIN) {
            inputLog.add(InputLog.Event.problem(InputLog.UNREADABLE, file, position));
          }
        }
      }
      return !buffer.isEmpty();
    }

    @Override
    public ExportLine next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return buffer.poll();
    }
  }
}
