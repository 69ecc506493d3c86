package org.backhippain.cds.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads JMH's JSON results ({@code -rf json -rff target/jmh.json}) and prints each benchmark's
 * score ± error (JMH's 99.9 % confidence interval) and the error as a share of the score, against
 * the ±10 % the issue asks for before a figure is believed.
 *
 * <p>Argument: the results file (default {@code target/jmh.json}).
 */
public final class JmhReport {
  static final double MAX_ERROR = 0.10;

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args.length > 0 ? args[0] : "target/jmh.json");
    JsonNode results = LoadBenchmark.JSON.readTree(Files.readString(file));
    System.out.printf(
        "%-40s %5s %10s %10s %-8s %8s%n", "benchmark", "iter", "score", "± error", "unit", "error");
    for (JsonNode result : results) {
      String name = result.path("benchmark").asText();
      name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
      List<String> params = new ArrayList<>();
      result.path("params").fields().forEachRemaining(p -> params.add(p.getValue().asText()));
      if (!params.isEmpty()) {
        name += " (" + String.join(", ", params) + ")";
      }
      JsonNode metric = result.path("primaryMetric");
      double score = metric.path("score").asDouble();
      double error = metric.path("scoreError").asDouble(Double.NaN);
      double share = error / score;
      boolean within = share <= MAX_ERROR;
      System.out.printf(
          "%-40s %5d %10.3f %10.3f %-8s %7.1f %% %s%n",
          name,
          result.path("measurementIterations").asInt(),
          score,
          error,
          metric.path("scoreUnit").asText(),
          share * 100,
          within ? "✔" : "✘");
      Targets.print(
          "JMH " + name + " error",
          Targets.fmt(
              "%.3f ± %.3f %s (%.1f %%)",
              score, error, metric.path("scoreUnit").asText(), share * 100),
          "within ±10 %",
          within);
    }
  }

  private JmhReport() {}
}
