package org.backhippain.cds.bench;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
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
 * The Synthea patients the load benchmark measures, each with its patient-view request (template
 * prefetch) and whether it is in scope — decided truthfully, not from "has cards": the content's
 * own define {@code Common."In Scope"}, evaluated in this JVM by the same content package and rule
 * engine as the service's, on the prefetch the request carries (parsed back from its JSON).
 *
 * <p>The median patient is the one at the middle rank by entries; the out-of-scope and the in-scope
 * patient are each the one of their scope nearest the median size (by entries, then by rank), so
 * the median patient is always one of them. Patients are evaluated nearest the median first, until
 * one of each scope has been found.
 */
final class ChosenPatients {
  /**
   * One patient: its bundle and rank by size; for the chosen ones, its template-prefetch request
   * and its scope ({@code null} where not computed).
   */
  record Candidate(Bundle bundle, int rank, String body, Boolean inScope) {
    int entries() {
      return bundle.getEntry().size();
    }

    String describe() {
      return Targets.fmt(
          "rank %d, %d entries, template prefetch %s, %s",
          rank,
          entries(),
          body == null ? "not built" : kib(body),
          inScope == null ? "scope not evaluated" : inScope ? "in scope" : "out of scope");
    }
  }

  static String kib(String body) {
    return Targets.fmt("%.0f KiB", body.getBytes(StandardCharsets.UTF_8).length / 1024.0);
  }

  static String mib(String body) {
    return Targets.fmt("%.1f MiB", body.getBytes(StandardCharsets.UTF_8).length / 1048576.0);
  }

  final List<Bundle> bySize;
  final Candidate median;
  final Candidate outOfScope;
  final Candidate inScope;

  private ChosenPatients(
      List<Bundle> bySize, Candidate median, Candidate outOfScope, Candidate inScope) {
    this.bySize = bySize;
    this.median = median;
    this.outOfScope = outOfScope;
    this.inScope = inScope;
  }

  /** Loads the content and engine, and evaluates scope nearest the median first. */
  static ChosenPatients choose(List<Bundle> bySize) throws Exception {
    FhirContext fhir = FhirParsing.context();
    long t0 = System.nanoTime();
    RuleEngine engine = RuleEngine.start(ContentPackage.load(fhir), fhir, Map.of());
    int middle = bySize.size() / 2;
    int medianEntries = bySize.get(middle).getEntry().size();
    List<Integer> nearestFirst = new ArrayList<>();
    for (int rank = 0; rank < bySize.size(); rank++) {
      nearestFirst.add(rank);
    }
    nearestFirst.sort(
        Comparator.<Integer>comparingInt(
                r -> Math.abs(bySize.get(r).getEntry().size() - medianEntries))
            .thenComparingInt(r -> Math.abs(r - middle)));
    Candidate median = null;
    Candidate out = null;
    Candidate in = null;
    int evaluated = 0;
    for (int rank : nearestFirst) {
      String body = LoadBenchmark.request(bySize.get(rank), false);
      boolean scope = inScope(engine, fhir, body);
      evaluated++;
      Candidate c = new Candidate(bySize.get(rank), rank, body, scope);
      if (rank == middle) {
        median = c;
      }
      if (scope && in == null) {
        in = c;
      } else if (!scope && out == null) {
        out = c;
      }
      if (in != null && out != null && median != null) {
        break;
      }
    }
    System.out.printf(
        "scope (Common.\"In Scope\", evaluated here on each request's prefetch, nearest the"
            + " median first): %d of %d patients evaluated, in %d ms%n",
        evaluated, bySize.size(), (System.nanoTime() - t0) / 1_000_000);
    return new ChosenPatients(bySize, median, out, in);
  }

  /** {@code Common."In Scope"} for a patient-view request body (its prefetch, as sent). */
  static boolean inScope(RuleEngine engine, FhirContext fhir, String body) throws Exception {
    JsonNode prefetch = LoadBenchmark.JSON.readTree(body).path("prefetch");
    Patient patient = null;
    List<Resource> resources = new ArrayList<>();
    for (JsonNode value : prefetch) {
      IBaseResource parsed = fhir.newJsonParser().parseResource(value.toString());
      if (parsed instanceof Patient p) {
        patient = p;
      } else if (parsed instanceof Bundle b) {
        b.getEntry().forEach(e -> resources.add(e.getResource()));
      }
    }
    if (patient == null) {
      throw new IllegalStateException("no patient in the prefetch");
    }
    PatientRecord record = new PatientRecord(patient, resources, Set.of(), List.of());
    var evaluation =
        engine.evaluate(
            new EvaluationInput(record, "patient-view", ZonedDateTime.now(ZoneOffset.UTC)),
            Map.of("Common", List.of("In Scope")));
    if (!evaluation.defines().containsKey("Common.In Scope")) {
      throw new IllegalStateException("Common.\"In Scope\" could not be evaluated");
    }
    return evaluation.isTrue("Common.In Scope");
  }

  /**
   * {@code count} patients at evenly spaced ranks of size from the smallest to rank {@code
   * highest}, both included (requests not built).
   */
  List<Candidate> spread(int count, int highest) {
    List<Candidate> out = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      int rank = (int) Math.round(k * highest / (double) (count - 1));
      if (out.isEmpty() || out.get(out.size() - 1).rank() != rank) {
        out.add(new Candidate(bySize.get(rank), rank, null, null));
      }
    }
    return out;
  }

  /** The largest patient, with its template-prefetch request (scope not evaluated). */
  Candidate largest() throws Exception {
    Bundle largest = bySize.get(bySize.size() - 1);
    return new Candidate(largest, bySize.size() - 1, LoadBenchmark.request(largest, false), null);
  }
}
