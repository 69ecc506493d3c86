package org.backhippain.cds.population;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The population dry run's command: with no Spark master set (a plain {@code java -jar}) it starts
 * an embedded {@code local[*]} session; under {@code spark-submit} it joins the cluster's. Writes
 * the report and the worklist into the output folder, prints the per-rule figures, and exits 0
 * (nothing skipped), 2 (some input skipped) or 1 (failed).
 */
public final class PopulationRun {
  private static final Logger log = LoggerFactory.getLogger(PopulationRun.class);
  static final int OK = 0;
  static final int FAILED = 1;
  static final int SKIPPED = 2;
  static final String LOCAL_DIR = ".spark-local";

  private PopulationRun() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  static int run(String[] args, PrintStream out) {
    if (args.length > 0 && args[0].equals("export-cases")) {
      return CaseExport.command(java.util.Arrays.copyOfRange(args, 1, args.length), out);
    }
    String[] runArgs =
        args.length > 0 && args[0].equals("run")
            ? java.util.Arrays.copyOfRange(args, 1, args.length)
            : args;
    RunOptions options;
    try {
      options = RunOptions.parse(runArgs);
    } catch (RuntimeException e) {
      out.println(e.getMessage());
      out.print(RunOptions.USAGE);
      return FAILED;
    }
    System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    SparkSession spark = session(options);
    try {
      PopulationJob.Result result = PopulationJob.run(spark, options);
      Report.write(result, spark.sparkContext().hadoopConfiguration());
      summary(result, out);
      return result.skipped() ? SKIPPED : OK;
    } catch (RuntimeException e) {
      // The message names a file, a setting or a parameter, never a resource's content.
      log.error("population run failed: {}", e.toString());
      out.println("failed: " + e.getMessage());
      return FAILED;
    } finally {
      spark.stop();
      removeLocalDir(options);
    }
  }

  /**
   * The session: spark-submit's when it set a master; otherwise an embedded one ({@code --master},
   * default {@code local[*]}) with the UI off unless asked for, and its scratch space (shuffle
   * files hold resources) inside the output folder the user named.
   */
  static SparkSession session(RunOptions options) {
    SparkConf conf = new SparkConf();
    SparkSession.Builder builder =
        SparkSession.builder().appName("back-hip-pain-cds population dry run");
    if (!conf.contains("spark.master")) {
      builder
          .master(options.master() != null ? options.master() : "local[*]")
          .config("spark.ui.enabled", options.ui())
          .config(
              "spark.local.dir", new java.io.File(options.output(), LOCAL_DIR).getAbsolutePath());
    }
    SparkSession spark = builder.getOrCreate();
    tune(spark);
    return spark;
  }

  /**
   * Each patient costs milliseconds of CPU: keep the shuffle's partitions (adaptive execution would
   * merge small ones onto one core).
   */
  static void tune(SparkSession spark) {
    spark.conf().set("spark.sql.adaptive.coalescePartitions.enabled", "false");
  }

  private static void removeLocalDir(RunOptions options) {
    java.io.File dir = new java.io.File(options.output(), LOCAL_DIR);
    if (dir.isDirectory()) {
      try (var files = java.nio.file.Files.walk(dir.toPath())) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        // left behind: Spark's scratch space, empty after a clean stop
      }
    }
  }

  static void summary(PopulationJob.Result r, PrintStream out) {
    Report.Data d = Report.data(r);
    out.printf(
        Locale.ROOT,
        "Population dry run as of %s (%s): %,d patients, %,d in scope, %d s%n",
        d.asOf(),
        d.timeZone(),
        d.patients(),
        d.patientsInScope(),
        d.seconds());
    out.printf(
        Locale.ROOT,
        "  %-28s %10s %10s %12s %12s%n",
        "rule",
        "in scope",
        "with card",
        "per 1,000",
        "per 1,000 in scope");
    for (Report.RuleRow rule : d.rules()) {
      out.printf(
          Locale.ROOT,
          "  %-28s %,10d %,10d %12.1f %12s%n",
          rule.ruleId(),
          rule.inScope(),
          rule.patientsWithCard(),
          rule.per1000Patients(),
          rule.per1000InScope() == null
              ? "-"
              : String.format(Locale.ROOT, "%.1f", rule.per1000InScope()));
    }
    var m = d.imaging();
    out.printf(
        Locale.ROOT,
        "  imaging orders: %s; denominator %s, exclusions %s (red flag %s), numerator %s, rate %s%n",
        m.get("orders"),
        m.get("denominator"),
        m.get("exclusions"),
        m.get("excludedRedFlagByRule"),
        m.get("numerator"),
        m.get("rate") == null ? "-" : String.format(Locale.ROOT, "%.3f", (Double) m.get("rate")));
    if (r.skipped()) {
      out.println("  some input was skipped: see the report's Input section");
    }
    out.println("  report: " + new Path(r.options().output(), Report.HTML_FILE));
    out.println("  worklist (PHI): " + new Path(r.options().output(), Worklist.CSV));
  }

  /** For tests: whether a path exists on the run's file system. */
  static boolean exists(SparkSession spark, String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
    return fs.exists(p);
  }
}
