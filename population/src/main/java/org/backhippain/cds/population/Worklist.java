package org.backhippain.cds.population;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The worklist: one row per patient and card that would have fired (patient id, rule id, the hook
 * and date it was evaluated at, the facts that made it fire). It holds PHI, so it is written only
 * into the output folder the user named: {@code worklist.parquet/} and {@code worklist.csv}.
 */
final class Worklist {
  static final String PARQUET = "worklist.parquet";
  static final String CSV = "worklist.csv";

  private Worklist() {}

  /** One row of the worklist (a bean for Spark's encoder). */
  public static class Entry implements Serializable {
    private String patientId;
    private String ruleId;
    private String hook;
    private String asOf;
    private String facts;

    public Entry() {}

    Entry(String patientId, PatientOutcome.RuleHit hit) {
      this.patientId = patientId;
      this.ruleId = hit.getRuleId();
      this.hook = hit.getHook();
      this.asOf = hit.getDate();
      this.facts = hit.getFacts();
    }

    public String getPatientId() {
      return patientId;
    }

    public void setPatientId(String patientId) {
      this.patientId = patientId;
    }

    public String getRuleId() {
      return ruleId;
    }

    public void setRuleId(String ruleId) {
      this.ruleId = ruleId;
    }

    public String getHook() {
      return hook;
    }

    public void setHook(String hook) {
      this.hook = hook;
    }

    public String getAsOf() {
      return asOf;
    }

    public void setAsOf(String asOf) {
      this.asOf = asOf;
    }

    public String getFacts() {
      return facts;
    }

    public void setFacts(String facts) {
      this.facts = facts;
    }
  }

  /** Rows per Parquet file (a file per million cards, sorted by patient within each). */
  static final long ROWS_PER_FILE = 1_000_000;

  static void write(
      SparkSession spark, Dataset<PatientOutcome> outcomes, String output, long rows) {
    Dataset<Row> entries =
        outcomes
            .flatMap(
                (FlatMapFunction<PatientOutcome, Entry>)
                    o -> {
                      List<Entry> out = new ArrayList<>();
                      if (PatientOutcome.PATIENT.equals(o.getKind())) {
                        o.getHits().forEach(h -> out.add(new Entry(o.getId(), h)));
                      }
                      return out.iterator();
                    },
                Encoders.bean(Entry.class))
            .selectExpr(
                "patientId as patient_id", "ruleId as rule_id", "hook", "asOf as as_of", "facts")
            .coalesce((int) Math.max(1, (rows + ROWS_PER_FILE - 1) / ROWS_PER_FILE))
            .sortWithinPartitions("patient_id", "rule_id", "as_of");
    entries.write().mode(SaveMode.Overwrite).parquet(new Path(output, PARQUET).toString());
    Path csvFolder = new Path(output, "worklist-csv");
    entries
        .coalesce(1)
        .sortWithinPartitions("patient_id", "rule_id", "as_of")
        .write()
        .mode(SaveMode.Overwrite)
        .option("header", true)
        .csv(csvFolder.toString());
    single(spark, csvFolder, new Path(output, CSV));
  }

  /** Spark writes a folder of parts; the CSV an informaticist opens is one file. */
  private static void single(SparkSession spark, Path folder, Path target) {
    try {
      FileSystem fs = Report.fileSystem(folder, spark.sparkContext().hadoopConfiguration());
      fs.delete(target, false);
      for (FileStatus part : fs.listStatus(folder)) {
        if (part.getPath().getName().endsWith(".csv")) {
          fs.rename(part.getPath(), target);
        }
      }
      fs.delete(folder, true);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write " + target, e);
    }
  }
}
