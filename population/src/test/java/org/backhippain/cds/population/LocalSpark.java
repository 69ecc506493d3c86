package org.backhippain.cds.population;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/**
 * One embedded Spark session for the module's tests (starting one costs 20-60 s on 2 cores): two
 * cores, UI off, 2 shuffle partitions, scratch space under target/.
 */
final class LocalSpark {
  private static SparkSession session;

  private LocalSpark() {}

  static synchronized SparkSession session() {
    if (session == null) {
      session =
          SparkSession.builder()
              .master("local[2]")
              .appName("population tests")
              .config("spark.ui.enabled", false)
              .config("spark.sql.shuffle.partitions", 2)
              .config(
                  "spark.local.dir", Path.of("target", "spark-local").toAbsolutePath().toString())
              .getOrCreate();
      PopulationRun.tune(session);
      Runtime.getRuntime().addShutdownHook(new Thread(session::stop));
    }
    return session;
  }
}
