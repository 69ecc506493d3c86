package org.backhippain.cds.service.demo;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.util.FhirTerser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.backhippain.cds.cql.ContentPackage;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * The demo FHIR server's data: the patient of every example in the package ({@code other/tests/
 * <Library>/<case>/}: {@code bundle.json}, and from {@code case.json} only the patient id and the
 * evaluation date). With date shifting on (the default), each example's dates move by the days
 * between its evaluation date and today, so every example keeps showing its cards on the real
 * clock. A demo-only reader: what a case expects is for the tests, not for the demo.
 */
final class DemoPatientStore {
  private final Map<String, Map<String, Resource>> byType = new LinkedHashMap<>();
  private final List<String> patientIds = new ArrayList<>();

  /** One example patient: its folder, id, the date its data is written for, and its resources. */
  record Example(String folder, String patientId, LocalDate evaluationDate, Bundle bundle) {}

  /** Every example of the package's {@code tests} folder, in folder order. */
  static List<Example> examples(ContentPackage content, FhirContext fhir) {
    ObjectMapper json = new ObjectMapper();
    var parser = fhir.newJsonParser();
    List<Example> examples = new ArrayList<>();
    for (String path : content.paths("tests")) {
      if (!path.endsWith("/case.json")) {
        continue;
      }
      String folder = path.substring(0, path.length() - "case.json".length());
      try {
        JsonNode c = json.readTree(content.file(path).orElseThrow());
        examples.add(
            new Example(
                folder,
                c.path("patientId").asText(),
                LocalDate.parse(c.path("evaluationDate").asText()),
                parser.parseResource(
                    Bundle.class, content.file(folder + "bundle.json").orElseThrow())));
      } catch (IOException e) {
        throw new UncheckedIOException(path, e);
      }
    }
    return examples;
  }

  DemoPatientStore(List<Example> examples, FhirContext fhir, Clock clock, boolean shiftDates) {
    FhirTerser terser = fhir.newTerser();
    LocalDate today = LocalDate.now(clock);
    for (Example c : examples) {
      int shift = shiftDates ? (int) ChronoUnit.DAYS.between(c.evaluationDate(), today) : 0;
      for (var entry : c.bundle().getEntry()) {
        Resource resource = entry.getResource().copy();
        if (shift != 0) {
          for (BaseDateTimeType date :
              terser.getAllPopulatedChildElementsOfType(resource, BaseDateTimeType.class)) {
            date.add(Calendar.DATE, shift);
          }
        }
        String id = resource.getIdElement().getIdPart();
        Resource previous =
            byType
                .computeIfAbsent(resource.fhirType(), t -> new LinkedHashMap<>())
                .put(id, resource);
        if (previous != null) {
          throw new IllegalStateException(
              "example " + c.folder() + " reuses the id " + resource.fhirType() + "/" + id);
        }
      }
      patientIds.add(c.patientId());
    }
  }

  /** A store being read on its own thread; {@link #get} waits for it (at most two minutes). */
  static final class Loading implements Supplier<DemoPatientStore> {
    private final CompletableFuture<DemoPatientStore> store;

    /** Starts reading; {@code failed} hears of a failure once (a request then gets 500). */
    Loading(Supplier<DemoPatientStore> read, Consumer<Throwable> failed) {
      this.store =
          CompletableFuture.supplyAsync(
              read,
              task -> {
                Thread reader = new Thread(task, "demo-patients");
                reader.setDaemon(true);
                reader.start();
              });
      store.exceptionally(
          e -> {
            failed.accept(e);
            return null;
          });
    }

    @Override
    public DemoPatientStore get() {
      try {
        return store.get(2, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InternalErrorException("interrupted while the demo patients were read");
      } catch (ExecutionException | TimeoutException e) {
        throw new InternalErrorException("the demo patients could not be read", e);
      }
    }
  }

  Optional<Resource> get(String type, String id) {
    return Optional.ofNullable(byType.getOrDefault(type, Map.of()).get(id));
  }

  Collection<Resource> all(String type) {
    return byType.getOrDefault(type, Map.of()).values();
  }

  List<String> types() {
    return List.copyOf(byType.keySet());
  }

  List<String> patientIds() {
    return List.copyOf(patientIds);
  }
}
