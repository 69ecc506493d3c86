package org.backhippain.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.EvaluationInput;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.fhir.FhirParsing;
import org.backhippain.cds.fhir.PatientRecord;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * Heap one hook-body byte costs, the figure behind {@code cds.body-cost-factor}: for Synthea
 * patients (template prefetch and every resource), the heap retained while a request is in progress
 * (its JSON tree and its parsed HAPI resources) and the bytes evaluation allocates, each per body
 * byte. Run by {@code benchmarks/run}.
 */
public final class MemoryCost {
  public static void main(String[] args) throws Exception {
    FhirContext fhir = FhirParsing.context();
    ObjectMapper json = new ObjectMapper();
    RuleEngine engine = RuleEngine.start(ContentPackage.load(fhir), fhir, Map.of());
    List<Bundle> bundles =
        SyntheaPatients.bySize(SyntheaPatients.require(Path.of("target/synthea"), 30), fhir);
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    System.out.printf(
        "%-8s %-10s %10s %14s %10s %16s %10s%n",
        "patient",
        "prefetch",
        "body KiB",
        "retained KiB",
        "per byte",
        "eval alloc KiB",
        "per byte");
    double worst = 0;
    for (String size : List.of("small", "median", "large")) {
      Bundle bundle =
          switch (size) {
            case "small" -> bundles.get(0);
            case "median" -> bundles.get(bundles.size() / 2);
            default -> bundles.get(bundles.size() - 1);
          };
      for (boolean everything : new boolean[] {false, true}) {
        String body = LoadBenchmark.request(bundle, everything);
        long bytes = body.getBytes(StandardCharsets.UTF_8).length;
        long before = usedAfterGc();
        JsonNode tree = json.readTree(body);
        List<IBaseResource> parsed = new ArrayList<>();
        tree.path("prefetch")
            .forEach(node -> parsed.add(fhir.newJsonParser().parseResource(node.toString())));
        long retained = usedAfterGc() - before;
        Patient patient = null;
        List<Resource> resources = new ArrayList<>();
        for (IBaseResource r : parsed) {
          if (r instanceof Patient p) patient = p;
          else if (r instanceof Bundle b) b.getEntry().forEach(e -> resources.add(e.getResource()));
        }
        PatientRecord record = new PatientRecord(patient, resources, Set.of(), List.of());
        long allocated = threads.getCurrentThreadAllocatedBytes();
        engine.evaluate(new EvaluationInput(record, "patient-view", ZonedDateTime.now()));
        allocated = threads.getCurrentThreadAllocatedBytes() - allocated;
        double perByte = (double) retained / bytes;
        worst = Math.max(worst, perByte);
        System.out.printf(
            "%-8s %-10s %10d %14d %10.1f %16d %10.1f%n",
            size,
            everything ? "every" : "template",
            bytes / 1024,
            retained / 1024,
            perByte,
            allocated / 1024,
            (double) allocated / bytes);
        if (tree.isNull() || parsed.isEmpty()) {
          throw new IllegalStateException("nothing parsed");
        }
      }
    }
    System.out.printf("worst retained heap per body byte: %.1f%n", worst);
  }

  private static long usedAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return heap.getUsed();
  }
}
