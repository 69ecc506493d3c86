package org.backhippain.cds.population;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ServiceRequest;

/**
 * The demo's example export, generated from the content's cases (never committed): a Bulk Data
 * export folder with one NDJSON file per resource type and a status manifest, each case one
 * patient. An order case's drafts become orders of the patient, dated (authoredOn) at the case's
 * evaluation date and active (an entered-in-error draft stays entered-in-error), so the dry run
 * evaluates each imaging order as the order hook saw it.
 *
 * <p>Cases whose EHR cannot give some data ({@code unavailable}) are left out: a bulk export has no
 * per-patient data gaps.
 */
final class CaseExport {
  /** What was written. */
  record Written(
      int patients,
      Map<String, Integer> resourcesByType,
      List<String> leftOut,
      TreeSet<LocalDate> evaluationDates,
      List<ContentCase> cases) {}

  private CaseExport() {}

  static Written write(
      Path folder, ContentPackage content, FhirContext fhir, Predicate<ContentCase> which) {
    IParser parser = fhir.newJsonParser().setPrettyPrint(false);
    Map<String, List<String>> byType = new TreeMap<>();
    List<String> leftOut = new ArrayList<>();
    List<ContentCase> written = new ArrayList<>();
    TreeSet<LocalDate> dates = new TreeSet<>();
    for (ContentCase c : ContentCase.all(content, fhir)) {
      if (!which.test(c)) {
        continue;
      }
      if (!c.unavailable().isEmpty()) {
        leftOut.add(c.id() + " (unavailable: " + String.join(", ", c.unavailable()) + ")");
        continue;
      }
      written.add(c);
      dates.add(c.evaluationDate());
      c.bundle()
          .getEntry()
          .forEach(
              e ->
                  byType
                      .computeIfAbsent(e.getResource().fhirType(), t -> new ArrayList<>())
                      .add(parser.encodeResourceToString(e.getResource())));
      if (c.draftOrders() != null) {
        c.draftOrders()
            .getEntry()
            .forEach(
                e -> {
                  Resource order = ordered(e.getResource().copy(), c.evaluationDate());
                  byType
                      .computeIfAbsent(order.fhirType(), t -> new ArrayList<>())
                      .add(parser.encodeResourceToString(order));
                });
      }
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    List<Map<String, Object>> output = new ArrayList<>();
    try {
      Files.createDirectories(folder);
      for (Map.Entry<String, List<String>> type : byType.entrySet()) {
        String name = type.getKey() + ".ndjson";
        try (BufferedWriter out =
            Files.newBufferedWriter(folder.resolve(name), StandardCharsets.UTF_8)) {
          for (String line : type.getValue()) {
            out.write(line);
            out.write('\n');
          }
        }
        counts.put(type.getKey(), type.getValue().size());
        output.add(Map.of("type", type.getKey(), "url", name, "count", type.getValue().size()));
      }
      Map<String, Object> manifest = new LinkedHashMap<>();
      manifest.put(
          "transactionTime", (dates.isEmpty() ? LocalDate.now() : dates.last()) + "T12:00:00Z");
      manifest.put("request", "(generated from the content's test cases)");
      manifest.put("requiresAccessToken", false);
      manifest.put("output", output);
      manifest.put("error", List.of());
      Files.write(
          folder.resolve("manifest.json"),
          new ObjectMapper()
              .enable(SerializationFeature.INDENT_OUTPUT)
              .writeValueAsBytes(manifest));
    } catch (IOException e) {
      throw new UncheckedIOException("could not write the export to " + folder, e);
    }
    return new Written(written.size(), counts, leftOut, dates, written);
  }

  /** A draft as the order it became: dated at the evaluation date, active unless in error. */
  static Resource ordered(Resource draft, LocalDate date) {
    if (draft instanceof ServiceRequest s) {
      s.setAuthoredOnElement(new DateTimeType(date.toString()));
      if (s.getStatus() == ServiceRequest.ServiceRequestStatus.DRAFT) {
        s.setStatus(ServiceRequest.ServiceRequestStatus.ACTIVE);
      }
    } else if (draft instanceof MedicationRequest m) {
      m.setAuthoredOnElement(new DateTimeType(date.toString()));
      if (m.getStatus() == MedicationRequest.MedicationRequestStatus.DRAFT) {
        m.setStatus(MedicationRequest.MedicationRequestStatus.ACTIVE);
      }
    }
    return draft;
  }

  /** {@code export-cases DIR [--hook patient-view|order-select]}. */
  static int command(String[] args, PrintStream out) {
    if (args.length < 1 || args.length == 2 || (args.length == 3 && !args[1].equals("--hook"))) {
      out.println("usage: java -jar population.jar export-cases DIR [--hook HOOK]");
      return PopulationRun.FAILED;
    }
    String hook = args.length == 3 ? args[2] : null;
    Written w =
        write(
            Path.of(args[0]),
            PatientEvaluator.Content.get(),
            PatientEvaluator.Content.FHIR,
            c -> hook == null || c.hook().equals(hook));
    out.printf("wrote %d patients to %s: %s%n", w.patients(), args[0], w.resourcesByType());
    if (!w.leftOut().isEmpty()) {
      out.println(
          "left out (a bulk export has no per-patient data gaps): "
              + String.join("; ", w.leftOut()));
    }
    out.println("the cases' evaluation dates: " + w.evaluationDates() + " (run with --as-of)");
    return PopulationRun.OK;
  }
}
