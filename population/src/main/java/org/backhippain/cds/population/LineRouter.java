package org.backhippain.cds.population;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.spark.util.LongAccumulator;

/**
 * Sends each resource of the export to its group, reading from its JSON only what routing needs:
 * {@code resourceType}, {@code id}, the patient reference ({@code subject}, {@code patient} or
 * {@code beneficiary}: {@code Patient/<id>}, an absolute URL ending so, or {@code urn:uuid:<id>}),
 * and for the prefetch filters an Observation's codes, a Coverage's status and a
 * MedicationRequest's {@code medicationReference}. HAPI parses each resource later, once, in its
 * patient's group.
 *
 * <p>The cohort can be replicated on read ({@code replicas} > 1, for the linearity benchmark):
 * every patient's resources are sent again under rewritten ids ({@code <id>-x<n>}).
 */
final class LineRouter implements Serializable {
  static final String ORGANIZATION_KEY = "Organization/";
  private static final JsonFactory JSON_FACTORY = new JsonFactory();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** MAIN: every resource to its group; JOIN: only what the medication join needs. */
  enum Mode {
    MAIN,
    JOIN
  }

  private final ContentScope scope;
  private final Set<String> readTypes;
  private final int replicas;
  private final InputLog log;
  private final LongAccumulator patientsFound;

  LineRouter(ContentScope scope, int replicas, InputLog log, LongAccumulator patientsFound) {
    this.scope = scope;
    this.readTypes = scope.readTypes();
    this.replicas = replicas;
    this.log = log;
    this.patientsFound = patientsFound;
  }

  /** What routing reads of one resource. */
  record Fields(
      String type,
      String id,
      String patientReference,
      List<String> codes,
      String medicationReference,
      String status) {}

  /** Routes one NDJSON line. Blank lines are ignored. */
  void line(String json, int file, long position, Mode mode, Consumer<ExportLine> out) {
    if (json.isBlank()) {
      return;
    }
    Fields f;
    try {
      f = fields(json);
    } catch (IOException | RuntimeException e) {
      problem(mode, InputLog.MALFORMED, file, position);
      return;
    }
    if (mode == Mode.JOIN) {
      join(f, json, file, position, out);
      return;
    }
    if (!accepted(f, file, position)) {
      return;
    }
    if (f.type().equals("Medication")) {
      return; // joined to the requests that name it (JOIN mode)
    }
    route(f, json, file, position, out);
  }

  /**
   * Routes one Bundle (a Synthea patient file). References inside it ({@code urn:uuid:…}) are
   * resolved through the entries' fullUrls; a Medication joins the patients whose requests in the
   * same Bundle name it.
   */
  void bundle(InputStream in, int file, Consumer<ExportLine> out) {
    JsonNode bundle;
    try {
      bundle = JSON.readTree(in);
    } catch (IOException | RuntimeException e) {
      log.add(InputLog.Event.problem(InputLog.MALFORMED, file, 0));
      return;
    }
    if (bundle == null
        || !bundle.isObject()
        || !"Bundle".equals(bundle.path("resourceType").asText())) {
      log.add(InputLog.Event.problem(InputLog.NOT_A_BUNDLE, file, 0));
      return;
    }
    JsonNode entries = bundle.path("entry");
    Map<String, String> fullUrls = new HashMap<>();
    for (JsonNode entry : entries) {
      JsonNode resource = entry.path("resource");
      if (entry.hasNonNull("fullUrl") && resource.hasNonNull("id")) {
        fullUrls.put(
            entry.get("fullUrl").asText(),
            resource.path("resourceType").asText() + "/" + resource.get("id").asText());
      }
    }
    Map<String, String[]> medications = new HashMap<>();
    Set<List<String>> needs = new LinkedHashSet<>();
    int index = 0;
    for (JsonNode entry : entries) {
      int position = index++;
      JsonNode resource = entry.get("resource");
      if (resource == null || !resource.isObject()) {
        log.add(InputLog.Event.problem(InputLog.NO_TYPE, file, position));
        continue;
      }
      String json = resource.toString();
      Fields f;
      try {
        f = resolved(fields(json), fullUrls);
      } catch (IOException | RuntimeException e) {
        log.add(InputLog.Event.problem(InputLog.MALFORMED, file, position));
        continue;
      }
      if (!accepted(f, file, position)) {
        continue;
      }
      if (f.type().equals("Medication")) {
        String[] med = {json, String.valueOf(position)};
        medications.put(f.id(), med);
        if (entry.hasNonNull("fullUrl")) {
          medications.put(entry.get("fullUrl").asText(), med);
        }
        continue;
      }
      String patient = route(f, json, file, position, out);
      String medication = id(f.medicationReference(), "Medication");
      if (patient != null && medication != null) {
        needs.add(List.of(patient, medication));
      }
    }
    for (List<String> need : needs) {
      String[] med = medications.get(need.get(1));
      if (med != null) {
        replicate(need.get(0), "Medication", med[0], file, Long.parseLong(med[1]), out);
      }
    }
  }

  /** Type, id and known type checked; types the run does not read counted. */
  private boolean accepted(Fields f, int file, long position) {
    if (f.type() == null || f.type().isBlank()) {
      log.add(InputLog.Event.problem(InputLog.NO_TYPE, file, position));
      return false;
    }
    if (!scope.knownTypes().contains(f.type())) {
      log.add(InputLog.Event.problem(InputLog.UNKNOWN_TYPE, file, position));
      return false;
    }
    if (!readTypes.contains(f.type())) {
      log.add(InputLog.Event.notRead(f.type()));
      return false;
    }
    boolean needsId =
        f.type().equals("Patient")
            || f.type().equals("Organization")
            || f.type().equals("Medication");
    if (needsId && (f.id() == null || f.id().isBlank())) {
      log.add(InputLog.Event.problem(InputLog.NO_ID, file, position));
      return false;
    }
    return true;
  }

  /** Sends an accepted resource to its group; returns the patient key (or null). */
  private String route(Fields f, String json, int file, long position, Consumer<ExportLine> out) {
    switch (f.type()) {
      case "Patient" -> {
        replicate(f.id(), f.type(), json, file, position, out);
        patientsFound.add(replicas);
        return f.id();
      }
      case "Organization" -> {
        out.accept(
            new ExportLine(
                ORGANIZATION_KEY + f.id(), ExportLine.RESOURCE, f.type(), json, file, position));
        return null;
      }
      case "Observation" -> {
        if (f.codes().stream().noneMatch(scope.observationCodes()::contains)) {
          log.add(InputLog.Event.filtered(f.type()));
          return null;
        }
      }
      case "Coverage" -> {
        if (!scope.coverageStatuses().isEmpty() && !scope.coverageStatuses().contains(f.status())) {
          log.add(InputLog.Event.filtered(f.type()));
          return null;
        }
      }
      default -> {}
    }
    String patient = id(f.patientReference(), "Patient");
    if (patient == null) {
      log.add(InputLog.Event.problem(InputLog.NO_PATIENT, file, position));
      return null;
    }
    replicate(patient, f.type(), json, file, position, out);
    return patient;
  }

  /** JOIN mode: a Medication under its id; a request's need for one under the Medication id. */
  private void join(Fields f, String json, int file, long position, Consumer<ExportLine> out) {
    if ("Medication".equals(f.type()) && f.id() != null && !f.id().isBlank()) {
      for (int r = 0; r < replicas; r++) {
        out.accept(
            new ExportLine(
                replicaId(f.id(), r), ExportLine.MEDICATION, f.type(), json, file, position));
      }
    } else if ("MedicationRequest".equals(f.type())) {
      String patient = id(f.patientReference(), "Patient");
      String medication = id(f.medicationReference(), "Medication");
      if (patient != null && medication != null) {
        for (int r = 0; r < replicas; r++) {
          out.accept(
              new ExportLine(
                  replicaId(medication, r),
                  ExportLine.NEEDS_MEDICATION,
                  f.type(),
                  replicaId(patient, r),
                  file,
                  position));
        }
      }
    }
  }

  private void replicate(
      String patient, String type, String json, int file, long position, Consumer<ExportLine> out) {
    for (int r = 0; r < replicas; r++) {
      out.accept(
          new ExportLine(replicaId(patient, r), ExportLine.RESOURCE, type, json, file, position));
    }
  }

  private void problem(Mode mode, String kind, int file, long position) {
    if (mode == Mode.MAIN) {
      log.add(InputLog.Event.problem(kind, file, position));
    }
  }

  /** The n-th replica's id: the original for 0, {@code <id>-x<n>} after. */
  static String replicaId(String id, int replica) {
    return replica == 0 ? id : id + "-x" + replica;
  }

  /**
   * The id a reference names if it is of the type: {@code Type/id}, an absolute URL ending so
   * (history suffix dropped), or {@code urn:uuid:id}; null otherwise (another type, a contained
   * {@code #ref}, a conditional reference).
   */
  static String id(String reference, String type) {
    if (reference == null || reference.isBlank() || reference.startsWith("#")) {
      return null;
    }
    if (reference.startsWith("urn:uuid:")) {
      return reference.substring("urn:uuid:".length());
    }
    if (reference.contains("?")) {
      return null;
    }
    String ref = reference;
    int history = ref.indexOf("/_history/");
    if (history >= 0) {
      ref = ref.substring(0, history);
    }
    String[] parts = ref.split("/");
    if (parts.length >= 2 && parts[parts.length - 2].equals(type)) {
      String id = parts[parts.length - 1];
      return id.isBlank() ? null : id;
    }
    return null;
  }

  private static Fields resolved(Fields f, Map<String, String> fullUrls) {
    return new Fields(
        f.type(),
        f.id(),
        fullUrls.getOrDefault(f.patientReference(), f.patientReference()),
        f.codes(),
        fullUrls.getOrDefault(f.medicationReference(), f.medicationReference()),
        f.status());
  }

  /** Reads the routing fields of one resource; the whole text is checked to be one JSON object. */
  static Fields fields(String json) throws IOException {
    try (JsonParser p = JSON_FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("not an object");
      }
      String type = null;
      String id = null;
      String patient = null;
      String medication = null;
      String status = null;
      List<String> codes = List.of();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "resourceType" -> type = text(p, value);
          case "id" -> id = text(p, value);
          case "status" -> status = text(p, value);
          case "subject", "patient", "beneficiary" -> {
            String ref = reference(p, value);
            if (patient == null) {
              patient = ref;
            }
          }
          case "code" -> codes = codings(p, value);
          case "medicationReference" -> medication = reference(p, value);
          default -> p.skipChildren();
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new IOException("not one object");
      }
      return new Fields(type, id, patient, codes, medication, status);
    }
  }

  private static String text(JsonParser p, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    p.skipChildren();
    return null;
  }

  private static String reference(JsonParser p, JsonToken value) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      p.skipChildren();
      return null;
    }
    String reference = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (name.equals("reference")) {
        reference = text(p, v);
      } else {
        p.skipChildren();
      }
    }
    return reference;
  }

  /** {@code system|code} of a CodeableConcept's codings. */
  private static List<String> codings(JsonParser p, JsonToken value) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      p.skipChildren();
      return List.of();
    }
    List<String> codes = new ArrayList<>(2);
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (!name.equals("coding") || v != JsonToken.START_ARRAY) {
        p.skipChildren();
        continue;
      }
      while (p.nextToken() == JsonToken.START_OBJECT) {
        String system = null;
        String code = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String field = p.currentName();
          JsonToken fv = p.nextToken();
          if (field.equals("system")) {
            system = text(p, fv);
          } else if (field.equals("code")) {
            code = text(p, fv);
          } else {
            p.skipChildren();
          }
        }
        codes.add(system + "|" + code);
      }
    }
    return codes;
  }
}
