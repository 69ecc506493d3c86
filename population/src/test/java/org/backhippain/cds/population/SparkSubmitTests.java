package org.backhippain.cds.population;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cluster path, verified here: Spark's own {@code SparkSubmit} (its jars only on the class
 * path, as a cluster's Spark distribution has them) runs the application jar {@code
 * target/population.jar} with {@code --master local[2]}. The jar brings everything else (content,
 * rule engine, HAPI, relocated Jackson). Exit code 2: the export carries one malformed line. Runs
 * after {@code package} (failsafe), in its own JVM: one more Spark start, 30-60 s on 2 cores.
 */
class SparkSubmitTests {
  static final Path TARGET = Path.of("target").toAbsolutePath();

  @Test
  void sparkSubmitRunsTheApplicationJar() throws Exception {
    Path export = TARGET.resolve("submit-export");
    Path output = TARGET.resolve("submit-out");
    CaseExport.Written written =
        CaseExport.write(
            export, PatientEvaluator.Content.get(), PatientEvaluator.Content.FHIR, c -> true);
    Files.writeString(export.resolve("Observation.extra.ndjson"), "{\"resourceType\": \"Obs\n");

    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(System.getProperty("spark.jvm.options").trim().split("\\s+")));
    command.addAll(
        List.of(
            "-Xmx1g",
            "-cp",
            TARGET.resolve("spark-lib") + File.separator + "*",
            "org.apache.spark.deploy.SparkSubmit",
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "--conf",
            "spark.local.dir=" + TARGET.resolve("submit-local"),
            "--class",
            PopulationRun.class.getName(),
            TARGET.resolve("population.jar").toString(),
            "--input",
            export.toString(),
            "--output",
            output.toString(),
            "--as-of",
            "2026-06-15",
            "--progress-seconds",
            "5"));
    Path log = TARGET.resolve("spark-submit.log");
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("finished within 5 minutes").isTrue();
    String out = Files.readString(log);
    assertThat(process.exitValue()).as(out).isEqualTo(PopulationRun.SKIPPED);
    assertThat(out).contains("Population dry run as of 2026-06-15", "progress: done");

    JsonNode report = new ObjectMapper().readTree(output.resolve(Report.JSON_FILE).toFile());
    assertThat(report.path("patients").asLong()).isEqualTo(written.patients());
    assertThat(report.path("imaging").path("numerator").asLong()).isEqualTo(10);
    JsonNode problem = report.path("problems").get(0);
    assertThat(problem.path("file").asText()).isEqualTo("Observation.extra.ndjson");
    assertThat(problem.path("kind").asText()).isEqualTo(InputLog.MALFORMED);
    assertThat(problem.path("lines").toString()).isEqualTo("[1]");
    assertThat(Files.readString(output.resolve(Worklist.CSV)))
        .contains("ptref-pos-21-days,pt-referral,patient-view,2026-06-15,");
    assertThat(output.resolve(Report.HTML_FILE)).exists();
  }
}
