package org.backhippain.cds.cql;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.backhippain.cds.fhir.FactDates;
import org.hl7.fhir.r4.model.Bundle;

/**
 * One clinical test case of the content ({@code input/tests/<Library>/<case>/}): the patient's
 * resources ({@code bundle.json}), the hook, the fixed evaluation date and the exact rule ids whose
 * cards must be returned ({@code case.json}); order hooks add {@code draftOrders.json}. Cases are
 * data: an informaticist adds one without writing Java.
 *
 * @param draftOrders the order hooks' {@code context.draftOrders}, or {@code null}
 * @param selections the order-select {@code context.selections}, or {@code null} (all drafts)
 * @param expectedCardsOrderSign for an order-select case, the cards order-sign must give for the
 *     same drafts (all of them); {@code null}: the expected cards minus the info cards
 * @param unavailable prefetch keys the EHR cannot provide in this case (clinical spec §2)
 * @param expectedText by rule id, text its card must show (each string in the summary or the
 *     detail, e.g. the Why's lines); optional
 * @param prefetchKeys the content's prefetch keys: which types an unavailable key leaves out
 */
public record ContentCase(
    String library,
    String name,
    String description,
    String hook,
    LocalDate evaluationDate,
    String patientId,
    List<String> expectedCards,
    Bundle bundle,
    Bundle draftOrders,
    List<String> selections,
    List<String> expectedCardsOrderSign,
    List<String> unavailable,
    java.util.Map<String, List<String>> expectedText,
    PrefetchKeys prefetchKeys) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public ContentCase {
    expectedCards = List.copyOf(expectedCards);
    selections = selections == null ? null : List.copyOf(selections);
    expectedCardsOrderSign =
        expectedCardsOrderSign == null ? null : List.copyOf(expectedCardsOrderSign);
    unavailable = unavailable == null ? List.of() : List.copyOf(unavailable);
    expectedText = expectedText == null ? java.util.Map.of() : java.util.Map.copyOf(expectedText);
  }

  /** Cases run in UTC: the service's zone in the suites (its default). */
  private static final FactDates UTC =
      new FactDates(FhirContext.forR4Cached(), java.time.ZoneOffset.UTC);

  /**
   * The case's patient data as the service would load it: the Patient, the other resources (copies,
   * date-times put into UTC as the service does), and the case's unavailable keys (whose resources
   * are then left out).
   */
  public org.backhippain.cds.fhir.PatientRecord record() {
    org.hl7.fhir.r4.model.Patient patient = null;
    List<org.hl7.fhir.r4.model.Resource> resources = new ArrayList<>();
    java.util.Set<String> hidden = new java.util.HashSet<>();
    unavailable.forEach(key -> hidden.addAll(prefetchKeys.types(key)));
    for (var entry : bundle.getEntry()) {
      org.hl7.fhir.r4.model.Resource resource = UTC.normalize(entry.getResource().copy());
      if (resource instanceof org.hl7.fhir.r4.model.Patient p) {
        patient = p;
      } else if (!hidden.contains(resource.fhirType())) {
        resources.add(resource);
      }
    }
    return new org.backhippain.cds.fhir.PatientRecord(
        patient, resources, java.util.Set.copyOf(unavailable), List.of());
  }

  /** The drafts the order hook considers: those named in selections, else all. */
  public List<org.hl7.fhir.r4.model.Resource> consideredDrafts() {
    List<org.hl7.fhir.r4.model.Resource> all = allDrafts();
    if (selections == null) {
      return all;
    }
    return all.stream()
        .filter(d -> selections.contains(d.fhirType() + "/" + d.getIdElement().getIdPart()))
        .toList();
  }

  /** Every draft of the case (copies, date-times in UTC as the service puts them). */
  public List<org.hl7.fhir.r4.model.Resource> allDrafts() {
    List<org.hl7.fhir.r4.model.Resource> all = new ArrayList<>();
    if (draftOrders != null) {
      draftOrders.getEntry().forEach(e -> all.add(UTC.normalize(e.getResource().copy())));
    }
    return all;
  }

  /** {@code Library/case-folder}, e.g. {@code PtReferral/pos-21-days}. */
  public String id() {
    return library + "/" + name;
  }

  /** Every case of the content, in folder order. */
  public static List<ContentCase> all(ContentPackage content, FhirContext fhir) {
    var parser = fhir.newJsonParser();
    PrefetchKeys keys = PrefetchKeys.of(content);
    List<ContentCase> cases = new ArrayList<>();
    for (String path : content.paths("tests")) {
      if (!path.endsWith("/case.json")) {
        continue;
      }
      String folder = path.substring(0, path.length() - "case.json".length());
      String[] parts = folder.split("/");
      JsonNode json = read(content.file(path).orElseThrow(), path);
      Bundle bundle =
          parser.parseResource(
              Bundle.class,
              content
                  .file(folder + "bundle.json")
                  .orElseThrow(() -> new IllegalStateException(folder + ": no bundle.json")));
      Bundle drafts =
          content
              .file(folder + "draftOrders.json")
              .map(text -> parser.parseResource(Bundle.class, text))
              .orElse(null);
      List<String> expected = new ArrayList<>();
      json.path("expectedCards").forEach(n -> expected.add(n.asText()));
      List<String> selections = texts(json, "selections");
      cases.add(
          new ContentCase(
              parts[parts.length - 2],
              parts[parts.length - 1],
              json.path("description").asText(),
              required(json, "hook", path),
              LocalDate.parse(required(json, "evaluationDate", path)),
              required(json, "patientId", path),
              expected,
              bundle,
              drafts,
              selections,
              texts(json, "expectedCardsOrderSign"),
              texts(json, "unavailable"),
              textsByRule(json, "expectedText"),
              keys));
    }
    return cases;
  }

  private static java.util.Map<String, List<String>> textsByRule(JsonNode json, String field) {
    java.util.Map<String, List<String>> byRule = new java.util.LinkedHashMap<>();
    json.path(field)
        .fields()
        .forEachRemaining(e -> byRule.put(e.getKey(), texts(json.get(field), e.getKey())));
    return byRule;
  }

  private static List<String> texts(JsonNode json, String field) {
    if (!json.has(field)) {
      return null;
    }
    List<String> values = new ArrayList<>();
    json.get(field).forEach(n -> values.add(n.asText()));
    return values;
  }

  private static String required(JsonNode json, String field, String path) {
    JsonNode value = json.get(field);
    if (value == null || value.asText().isBlank()) {
      throw new IllegalStateException(path + ": missing \"" + field + "\"");
    }
    return value.asText();
  }

  private static JsonNode read(String text, String path) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(path + ": not JSON", e);
    }
  }
}
