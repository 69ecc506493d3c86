package org.backhippain.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.fhir.FhirParsing;
import org.backhippain.cds.fhir.PatientRecord;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** All patient-view rules for one Synthea patient (small, median, large), template prefetch. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class EvaluationBenchmark {
  @Param({"small", "median", "large"})
  public String size;

  RuleEngine engine;
  PatientRecord record;
  ZonedDateTime now;

  @Setup
  public void setUp() throws Exception {
    FhirContext fhir = FhirParsing.context();
    engine = RuleEngine.start(ContentPackage.load(fhir), fhir, Map.of());
    List<Bundle> bundles =
        SyntheaPatients.bySize(SyntheaPatients.require(Path.of("target/synthea"), 30), fhir);
    Bundle chosen =
        switch (size) {
          case "small" -> bundles.get(0);
          case "median" -> bundles.get(bundles.size() / 2);
          default -> bundles.get(bundles.size() - 1);
        };
    var keys = TemplatePrefetch.of(chosen, false);
    List<Resource> resources = new ArrayList<>();
    keys.forEach(
        (key, list) -> {
          if (!key.equals("patient")) {
            resources.addAll(list);
          }
        });
    record = new PatientRecord(TemplatePrefetch.patient(keys), resources, Set.of(), List.of());
    now = ZonedDateTime.now();
  }

  @Benchmark
  public List<RuleResult> evaluate() {
    return engine.evaluate(new EvaluationInput(record, "patient-view", now));
  }
}
