package org.backhippain.cds.population;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Progress lines while the job runs, from the driver: lines read and patients found while reading,
 * then patients processed of those found, the rate and the time left. Counts only (never an id):
 * the accumulators are merged on the driver as tasks finish.
 */
final class Progress implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Progress.class);

  private final LongAccumulator lines;
  private final LongAccumulator found;
  private final LongAccumulator processed;
  private final long start = System.nanoTime();
  private final ScheduledExecutorService timer;
  private long evaluationStart;
  private long evaluatedAtStart;

  private Progress(
      int seconds, LongAccumulator lines, LongAccumulator found, LongAccumulator processed) {
    this.lines = lines;
    this.found = found;
    this.processed = processed;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "population-progress");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::report, seconds, seconds, TimeUnit.SECONDS);
  }

  static Progress start(
      int seconds, LongAccumulator lines, LongAccumulator found, LongAccumulator processed) {
    return new Progress(Math.max(1, seconds), lines, found, processed);
  }

  void report() {
    long done = processed.value();
    long total = found.value();
    long now = System.nanoTime();
    if (done == 0) {
      log.info(
          "progress: reading, {} lines, {} patients found, {} s",
          lines.value(),
          total,
          (now - start) / 1_000_000_000);
      return;
    }
    if (total > 0 && done >= total) {
      log.info("progress: all {} patients processed; counting and writing the worklist", done);
      return;
    }
    if (evaluationStart == 0) {
      evaluationStart = now;
      evaluatedAtStart = done;
      log.info("progress: {} of {} patients processed", done, total);
      return;
    }
    double seconds = (now - evaluationStart) / 1e9;
    double rate = (done - evaluatedAtStart) / Math.max(seconds, 1e-3);
    long left = rate > 0 ? Math.round(Math.max(0, total - done) / rate) : -1;
    log.info(
        "progress: {} of {} patients processed ({}%), {} patients/s, about {} left",
        done,
        total,
        total == 0 ? 100 : done * 100 / total,
        String.format("%.1f", rate),
        left < 0 ? "?" : left + " s");
  }

  /** The last line: patients processed, and of those evaluated (alive on the date, valid FHIR). */
  void done(long evaluated) {
    double seconds = (System.nanoTime() - start) / 1e9;
    log.info(
        "progress: done, {} patients processed ({} evaluated as of the date) in {} s ({}"
            + " patients/s)",
        processed.value(),
        evaluated,
        String.format("%.1f", seconds),
        String.format("%.1f", processed.value() / Math.max(seconds, 1e-3)));
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
