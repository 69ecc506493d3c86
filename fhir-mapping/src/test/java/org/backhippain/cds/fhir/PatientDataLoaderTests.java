package org.backhippain.cds.fhir;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ca.uhn.fhir.context.FhirContext;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.backhippain.cds.fhir.PatientRecord.Source;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Prefetch semantics of CDS Hooks 2.0 §Prefetch Template and the clinical spec §2. */
class PatientDataLoaderTests {
  static final FhirContext FHIR = FhirContext.forR4Cached();
  static final List<PrefetchTemplate> TEMPLATES =
      List.of(
          PrefetchTemplate.of("patient", "Patient/{{context.patientId}}", true),
          PrefetchTemplate.of("conditions", "Condition?patient={{context.patientId}}", true),
          PrefetchTemplate.of("procedures", "Procedure?patient={{context.patientId}}", false));
  static WireMockServer server;
  static ExecutorService executor;
  static OutboundClient outbound;
  PatientDataLoader loader;

  @BeforeAll
  static void start() {
    server = new WireMockServer(WireMockConfiguration.options().dynamicPort());
    server.start();
    executor = Executors.newFixedThreadPool(4);
    outbound =
        new OutboundClient(
            SETTINGS,
            org.apache.http.impl.conn.SystemDefaultDnsResolver.INSTANCE,
            new AddressRules(List.of()));
  }

  static final FetchSettings SETTINGS = FetchSettings.defaults().with(Duration.ofSeconds(5), 3);

  @AfterAll
  static void stop() throws Exception {
    server.stop();
    executor.shutdownNow();
    outbound.close();
  }

  @BeforeEach
  void reset() {
    server.resetAll();
    loader = loader(ResourceSelection.EVERY);
  }

  static PatientDataLoader loader(ResourceSelection selection) {
    return new PatientDataLoader(
        contextFor(outbound),
        SETTINGS,
        executor,
        ZoneOffset.UTC,
        outbound,
        new MemoryBudget(64L << 20, Duration.ofSeconds(1)),
        selection);
  }

  /** Request JSON as the service reads it: decimals kept exactly. */
  static final com.fasterxml.jackson.databind.ObjectMapper REQUEST_JSON =
      new com.fasterxml.jackson.databind.ObjectMapper()
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .setNodeFactory(
              com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true));

  static String json(Resource resource) {
    return FHIR.newJsonParser().encodeResourceToString(resource);
  }

  /** A prefetch value as the EHR's request carries it: the resource's JSON. */
  static PrefetchValue prefetched(Resource resource) {
    return prefetched(json(resource));
  }

  static PrefetchValue prefetched(String json) {
    try {
      return PrefetchValue.tree(REQUEST_JSON.readTree(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static Patient patient() {
    Patient patient = new Patient();
    patient.setId("p1");
    return patient;
  }

  static Bundle searchset(Resource... resources) {
    Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET);
    for (Resource r : resources) {
      bundle.addEntry().setResource(r);
    }
    return bundle;
  }

  static Condition condition(String id) {
    Condition c = new Condition();
    c.setId(id);
    return c;
  }

  DataRequest request(Map<String, PrefetchValue> prefetch, String fhirServer) {
    return new DataRequest(
        fhirServer,
        AccessToken.of("tok", 300L, "patient/*.read", null),
        FhirServers.of(List.of("http://localhost:*")),
        Map.of("context.patientId", "p1"),
        prefetch);
  }

  Map<String, PrefetchValue> full() {
    Map<String, PrefetchValue> prefetch = new HashMap<>();
    prefetch.put("patient", prefetched((patient())));
    prefetch.put("conditions", prefetched((searchset(condition("c1")))));
    prefetch.put("procedures", prefetched((searchset())));
    return prefetch;
  }

  /**
   * A key holding more resources than are read per key counts as unavailable (the Why names it; 412
   * when it is a required key) — without its resources being checked or evaluated.
   */
  @Test
  void aKeyOverTheEntryCapCountsAsUnavailableAndARequiredOneIs412() {
    PatientDataLoader capped =
        new PatientDataLoader(
            contextFor(outbound),
            new FetchSettings(
                Duration.ofSeconds(5), 3, 4, 4, 16L << 20, 32L << 20, Duration.ofSeconds(1), 2),
            executor,
            ZoneOffset.UTC,
            outbound,
            new MemoryBudget(64L << 20, Duration.ofSeconds(1)),
            ResourceSelection.EVERY);
    Resource[] three = {condition("c1"), condition("c2"), condition("c3")};
    Procedure procedure = new Procedure();
    procedure.setId("x1");
    PatientRecord record =
        capped.load(
            TEMPLATES,
            request(
                Map.of(
                    "patient", prefetched(patient()),
                    "conditions", prefetched(searchset(condition("c1"), condition("c2"))),
                    "procedures",
                        prefetched(searchset(procedure, procedure.copy(), procedure.copy()))),
                null));
    assertThat(record.unavailable()).containsExactly("procedures");
    assertThat(record.outcomes())
        .filteredOn(o -> o.key().equals("procedures"))
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.reason()).isEqualTo("3 entries, more than the 2 read per key");
              assertThat(o.failure()).isEqualTo("too_many_entries");
            });
    assertThat(record.resources()).hasSize(2);

    assertThatThrownBy(
            () ->
                capped.load(
                    TEMPLATES,
                    request(
                        Map.of(
                            "patient", prefetched(patient()),
                            "conditions", prefetched(searchset(three)),
                            "procedures", prefetched(searchset())),
                        null)))
        .isInstanceOf(RequiredDataUnavailableException.class)
        .hasMessageContaining("conditions")
        .hasMessageContaining("3 entries, more than the 2 read per key");
  }

  /** Unusable values are removed where they are parsed and named in the record. */
  @Test
  void unusableValuesInThePrefetchAreRemovedAndNamed() {
    PatientRecord record =
        loader.load(
            TEMPLATES,
            request(
                Map.of(
                    "patient",
                        prefetched(
                            "{\"resourceType\":\"Patient\",\"id\":\"p1\","
                                + "\"birthDate\":\"1956-06-15T10:00:00\",\"gender\":\"female\"}"),
                    "conditions",
                        prefetched(
                            "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
                                + "{\"resource\":{\"resourceType\":\"Condition\",\"id\":\"c1\","
                                + "\"code\":\"back pain\",\"onsetDateTime\":\"2026-02-30\","
                                + "\"recordedDate\":\"2026-02-01\"}}]}"),
                    "procedures", prefetched(searchset())),
                null));
    assertThat(record.unusable())
        .containsExactly("Condition.code", "Condition.onsetDateTime", "Patient.birthDate");
    assertThat(record.patient().hasBirthDate()).isFalse();
    assertThat(record.patient().getGender().toCode()).isEqualTo("female");
    Condition condition = (Condition) record.resources().get(0);
    assertThat(condition.hasOnset()).isFalse();
    assertThat(condition.getRecordedDateElement().getValueAsString()).isEqualTo("2026-02-01");
  }

  @Test
  void fullPrefetchNeedsNoServer() {
    PatientRecord record = loader.load(TEMPLATES, request(full(), null));
    assertThat(record.patient().getIdPart()).isEqualTo("p1");
    assertThat(record.resources()).extracting(Resource::getIdPart).containsExactly("c1");
    assertThat(record.unavailable()).isEmpty();
    assertThat(record.outcomes()).allMatch(o -> o.source() == Source.PREFETCH);
  }

  @Test
  void aPrefetchTreeIsReadDirectlyKeepingDecimalsAndDroppingNarrative() throws Exception {
    Condition withAge = condition("c2");
    withAge.setOnset(new org.hl7.fhir.r4.model.Age().setValue(new java.math.BigDecimal("42.50")));
    withAge.getText().setStatus(org.hl7.fhir.r4.model.Narrative.NarrativeStatus.GENERATED);
    withAge.getText().setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">back pain</div>");
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("conditions", prefetched(searchset(withAge)));
    PatientRecord record = loader.load(TEMPLATES, request(prefetch, null));
    assertThat(record.patient().getIdPart()).isEqualTo("p1");
    Condition parsed =
        (Condition)
            record.resources().stream()
                .filter(r -> r.getIdPart().equals("c2"))
                .findFirst()
                .orElseThrow();
    assertThat(parsed.getOnsetAge().getValue().toPlainString()).isEqualTo("42.50");
    assertThat(parsed.hasText()).isFalse();
    assertThat(record.unavailable()).isEmpty();
  }

  @Test
  void dateTimesArePutIntoTheServiceZoneWhetherPrefetchedOrFetched() {
    Condition prefetchedLate = condition("c1");
    prefetchedLate.setOnset(new org.hl7.fhir.r4.model.DateTimeType("2026-06-14T22:30:00-05:00"));
    org.hl7.fhir.r4.model.Procedure fetchedLate = new org.hl7.fhir.r4.model.Procedure();
    fetchedLate.setId("pr1");
    fetchedLate.setPerformed(new org.hl7.fhir.r4.model.DateTimeType("2026-06-14T23:00:00-05:00"));
    server.stubFor(
        get(urlPathEqualTo("/Procedure"))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/fhir+json")
                    .withBody(json(searchset(fetchedLate)))));
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("conditions", prefetched(searchset(prefetchedLate)));
    prefetch.remove("procedures");
    PatientRecord record = loader.load(TEMPLATES, request(prefetch, server.baseUrl()));
    assertThat(record.resources())
        .extracting(
            r ->
                r instanceof Condition c
                    ? c.getOnsetDateTimeType().getValueAsString()
                    : ((org.hl7.fhir.r4.model.Procedure) r)
                        .getPerformedDateTimeType()
                        .getValueAsString())
        .containsExactlyInAnyOrder("2026-06-15T03:30:00Z", "2026-06-15T04:00:00Z");
  }

  @Test
  void aPrefetchTreeThatIsNotAnObjectIsUnusable() throws Exception {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("procedures", prefetched("[1, 2]"));
    assertThat(loader.load(TEMPLATES, request(prefetch, null)).unavailable())
        .containsExactly("procedures");
  }

  @Test
  void aPrefetchedPatientWhoIsNotTheContextPatientIsNeverUsed() {
    Map<String, PrefetchValue> prefetch = full();
    Patient someoneElse = new Patient();
    someoneElse.setId("p2");
    prefetch.put("patient", prefetched((someoneElse)));
    assertThatThrownBy(() -> loader.load(TEMPLATES, request(prefetch, null)))
        .isInstanceOf(RequiredDataUnavailableException.class)
        .hasMessageContaining("another patient");
  }

  /**
   * Entries of a prefetched search that no retrieve can match are skipped before HAPI parses them:
   * an unusable value in one is never read (nor reported in the Why), a Medication that a kept
   * MedicationRequest names is kept, and one naming another patient is still counted by the guard.
   */
  @Test
  void resourcesNoRuleReadsAreSkippedBeforeParsing() {
    ResourceSelection selection =
        new ResourceSelection() {
          @Override
          public boolean readsEvery(String type) {
            return type.equals("Condition") || type.equals("MedicationRequest");
          }

          @Override
          public boolean reads(String type, String system, String code) {
            return readsEvery(type)
                || (type.equals("Procedure") && "http://pt".equals(system) && code.equals("97110"));
          }
        };
    PatientDataLoader selective = loader(selection);
    List<PrefetchTemplate> templates =
        List.of(
            TEMPLATES.get(0),
            TEMPLATES.get(1),
            TEMPLATES.get(2),
            PrefetchTemplate.of(
                "medications",
                "MedicationRequest?patient={{context.patientId}}"
                    + "&_include=MedicationRequest:medication",
                false));
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put(
        "procedures",
        prefetched(
            """
            {"resourceType": "Bundle", "type": "searchset", "entry": [
              {"resource": {"resourceType": "Procedure", "id": "pt", "status": "completed",
                "code": {"coding": [{"system": "http://x", "code": "1"},
                                    {"system": "http://pt", "code": " 97110"}]}}},
              {"resource": {"resourceType": "Procedure", "id": "other", "status": "completed",
                "code": {"coding": [{"system": "http://x", "code": "1"}]},
                "performedDateTime": "2026-02-30"}},
              {"resource": {"resourceType": "Procedure", "id": "theirs", "status": "completed",
                "subject": {"reference": "Patient/p2"}}},
              {"resource": {"resourceType": "Procedure", "id": "uncoded", "status": "completed"}}
            ]}"""));
    prefetch.put(
        "medications",
        prefetched(
            """
            {"resourceType": "Bundle", "type": "searchset", "entry": [
              {"resource": {"resourceType": "MedicationRequest", "id": "mr", "status": "active",
                "intent": "order", "medicationReference": {"reference": "Medication/named"}}},
              {"resource": {"resourceType": "Medication", "id": "named"}},
              {"resource": {"resourceType": "Medication", "id": "unnamed"}}
            ]}"""));
    Map<String, PrefetchValue> untouched = prefetch(prefetch);
    PatientRecord record = selective.load(templates, request(prefetch, null));

    assertThat(record.resources())
        .extracting(r -> r.fhirType() + "/" + r.getIdPart())
        .containsExactly(
            "Condition/c1", "Procedure/pt", "MedicationRequest/mr", "Medication/named");
    assertThat(record.unusable()).isEmpty();
    // The same prefetch read whole: everything parsed, the bad date reported.
    PatientRecord whole = loader.load(templates, request(untouched, null));
    assertThat(whole.resources()).hasSize(7);
    assertThat(whole.unusable()).containsExactly("Procedure.performedDateTime");
  }

  /** A fresh copy of each prefetch tree (reading a prefetch changes its tree). */
  static Map<String, PrefetchValue> prefetch(Map<String, PrefetchValue> prefetch) {
    Map<String, PrefetchValue> copy = new HashMap<>();
    prefetch.forEach(
        (k, v) ->
            copy.put(
                k,
                v instanceof PrefetchValue.Tree tree
                    ? PrefetchValue.tree(tree.node().deepCopy())
                    : v));
    return copy;
  }

  @Test
  void resourcesNamingAnotherPatientAreDropped() {
    Condition mine = condition("c1");
    mine.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/p1"));
    Condition theirs = condition("c2");
    theirs.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/p2"));
    Condition unjudged = condition("c3");
    unjudged.setSubject(new org.hl7.fhir.r4.model.Reference("urn:uuid:7a1c"));
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("conditions", prefetched((searchset(mine, theirs, unjudged))));
    PatientRecord record = loader.load(TEMPLATES, request(prefetch, null));
    assertThat(record.resources()).extracting(Resource::getIdPart).containsExactly("c1", "c3");
  }

  @Test
  void nullMeansNoDataAndIsNotFetched() {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("procedures", PrefetchValue.noData());
    PatientRecord record = loader.load(TEMPLATES, request(prefetch, server.baseUrl()));
    assertThat(record.unavailable()).isEmpty();
    assertThat(server.getAllServeEvents()).isEmpty();
  }

  @Test
  void anAbsentOptionalKeyWithoutServerIsUnavailable() {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.remove("procedures");
    assertThat(loader.load(TEMPLATES, request(prefetch, null)).unavailable())
        .containsExactly("procedures");
  }

  @Test
  void anOperationOutcomeOrWrongTypeIsFetchedInstead() {
    server.stubFor(
        get(urlPathEqualTo("/Condition"))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/fhir+json")
                    .withBody(json(searchset(condition("c9"))))));
    server.stubFor(
        get(urlPathEqualTo("/Procedure"))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/fhir+json")
                    .withBody(json(searchset()))));
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("conditions", prefetched((new OperationOutcome())));
    prefetch.put("procedures", prefetched((patient())));
    PatientRecord record = loader.load(TEMPLATES, request(prefetch, server.baseUrl()));
    assertThat(record.resources()).extracting(Resource::getIdPart).containsExactly("c9");
    server.verify(
        getRequestedFor(urlPathEqualTo("/Condition"))
            .withHeader(
                "Authorization",
                com.github.tomakehurst.wiremock.client.WireMock.equalTo("Bearer tok")));
    server.verify(getRequestedFor(urlPathEqualTo("/Procedure")));
  }

  @Test
  void patientNullIsRequiredDataUnavailable() {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("patient", PrefetchValue.noData());
    assertThatThrownBy(() -> loader.load(TEMPLATES, request(prefetch, server.baseUrl())))
        .isInstanceOf(RequiredDataUnavailableException.class)
        .extracting(e -> ((RequiredDataUnavailableException) e).key())
        .isEqualTo("patient");
  }

  @Test
  void unparseableFhirPrefetchIsTreatedAsAbsent() {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.put("procedures", prefetched("{\"resourceType\": \"NoSuchResource\"}"));
    assertThat(loader.load(TEMPLATES, request(prefetch, null)).unavailable())
        .containsExactly("procedures");
  }

  @Test
  void pagesAreFollowedUpToTheCapThenTheKeyIsUnavailable() {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.remove("procedures");
    for (int page = 1; page <= 5; page++) {
      Bundle bundle = searchset(condition("proc-" + page));
      bundle
          .getEntryFirstRep()
          .setResource(new org.hl7.fhir.r4.model.Procedure().setId("pr" + page));
      bundle.addLink().setRelation("next").setUrl(server.baseUrl() + "/page" + (page + 1));
      server.stubFor(
          get(urlPathEqualTo(page == 1 ? "/Procedure" : "/page" + page))
              .willReturn(
                  aResponse()
                      .withHeader("Content-Type", "application/fhir+json")
                      .withBody(json(bundle))));
    }
    PatientRecord record = loader.load(TEMPLATES, request(prefetch, server.baseUrl()));
    assertThat(record.unavailable()).containsExactly("procedures");
    assertThat(record.outcomes())
        .filteredOn(o -> o.key().equals("procedures"))
        .singleElement()
        .satisfies(o -> assertThat(o.reason()).contains("page cap 3"));
  }

  /** Once a search holds more than the entries read per key, its further pages are not read. */
  @Test
  void pagingStopsOnceASearchIsOverTheEntryCap() {
    Map<String, PrefetchValue> prefetch = full();
    prefetch.remove("procedures");
    for (int page = 1; page <= 3; page++) {
      Bundle bundle = searchset();
      for (int i = 0; i < 2; i++) {
        bundle.addEntry().setResource(new org.hl7.fhir.r4.model.Procedure().setId("p" + page + i));
      }
      if (page < 3) {
        bundle.addLink().setRelation("next").setUrl(server.baseUrl() + "/page" + (page + 1));
      }
      server.stubFor(
          get(urlPathEqualTo(page == 1 ? "/Procedure" : "/page" + page))
              .willReturn(
                  aResponse()
                      .withHeader("Content-Type", "application/fhir+json")
                      .withBody(json(bundle))));
    }
    FetchSettings twoEntries =
        new FetchSettings(
            Duration.ofSeconds(5), 5, 4, 4, 16L << 20, 32L << 20, Duration.ofSeconds(1), 3);
    PatientRecord record =
        loader(twoEntries, new MemoryBudget(64L << 20, Duration.ofSeconds(1)))
            .load(TEMPLATES, request(prefetch, server.baseUrl()));
    assertThat(record.unavailable()).containsExactly("procedures");
    assertThat(record.outcomes())
        .filteredOn(o -> o.key().equals("procedures"))
        .singleElement()
        .satisfies(o -> assertThat(o.reason()).contains("more than the 3 entries read per key"));
    server.verify(getRequestedFor(urlPathEqualTo("/page2")));
    server.verify(0, getRequestedFor(urlPathEqualTo("/page3")));
  }

  @Test
  void tokensResolveAndAQueryWithAnUnknownTokenIsUnavailable() {
    assertThat(
            PrefetchTokens.resolve(
                "Condition?patient={{context.patientId}}", Map.of("context.patientId", "7")))
        .isEqualTo("Condition?patient=7");
    assertThat(PrefetchTokens.resolve("Encounter/{{context.encounterId}}", Map.of())).isNull();
    assertThat(
            PrefetchTokens.resolve(
                "Practitioner/{{userPractitionerId}}", Map.of("userPractitionerId", "dr1")))
        .isEqualTo("Practitioner/dr1");
  }

  @Test
  void templatesKnowTheirResourceTypes() {
    PrefetchTemplate meds =
        PrefetchTemplate.of(
            "medications",
            "MedicationRequest?patient={{context.patientId}}&_include=MedicationRequest:medication",
            false);
    assertThat(meds.resourceType()).isEqualTo("MedicationRequest");
    assertThat(meds.alsoAccepted()).containsExactly("Medication");
    assertThat(meds.isRead()).isFalse();
    assertThat(TEMPLATES.get(0).isRead()).isTrue();
  }

  /** A searchset of {@code count} Procedures, about 60 bytes each. */
  static String procedures(int count) {
    Bundle bundle = searchset();
    for (int i = 0; i < count; i++) {
      bundle.addEntry().setResource(new org.hl7.fhir.r4.model.Procedure().setId("pr" + i));
    }
    return json(bundle);
  }

  PatientDataLoader loader(FetchSettings settings, MemoryBudget memory) {
    OutboundClient client =
        new OutboundClient(
            settings,
            org.apache.http.impl.conn.SystemDefaultDnsResolver.INSTANCE,
            new AddressRules(List.of()));
    return new PatientDataLoader(
        contextFor(client),
        settings,
        executor,
        ZoneOffset.UTC,
        client,
        memory,
        ResourceSelection.EVERY);
  }

  /** A context as the service configures it, its HAPI clients on {@code client}. */
  static FhirContext contextFor(OutboundClient client) {
    FhirContext fhir = FhirParsing.context();
    client.install(fhir);
    return fhir;
  }

  @Test
  void aContextNotConfiguredForEhrDataIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PatientDataLoader(
                FhirContext.forR4(),
                SETTINGS,
                executor,
                ZoneOffset.UTC,
                outbound,
                new MemoryBudget(64L << 20, Duration.ofSeconds(1)),
                ResourceSelection.EVERY));
  }

  @Test
  void theBytesOfOneHookAreCappedAcrossItsKeys() {
    String body = procedures(1_000);
    for (String path : List.of("/Procedure", "/Observation")) {
      server.stubFor(
          get(urlPathEqualTo(path))
              .willReturn(
                  aResponse().withHeader("Content-Type", "application/fhir+json").withBody(body)));
    }
    List<PrefetchTemplate> templates =
        List.of(
            TEMPLATES.get(0),
            PrefetchTemplate.of("procedures", "Procedure?patient={{context.patientId}}", false),
            PrefetchTemplate.of(
                "observations", "Observation?patient={{context.patientId}}", false));
    FetchSettings small =
        new FetchSettings(
            Duration.ofSeconds(5),
            3,
            4,
            4,
            body.length() + 100,
            body.length() * 3L / 2,
            Duration.ofSeconds(1));
    Map<String, PrefetchValue> prefetch = Map.of("patient", prefetched(patient()));
    PatientRecord record =
        loader(small, new MemoryBudget(64L << 20, Duration.ofSeconds(1)))
            .load(templates, request(prefetch, server.baseUrl()));
    assertThat(record.outcomes())
        .filteredOn(o -> o.source() == Source.UNAVAILABLE)
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.reason()).contains("for one hook");
              assertThat(o.failure()).isEqualTo("too_large");
            });
  }

  @Test
  void fetchedBytesReserveFromTheSharedMemoryBudget() {
    String body = procedures(1_000);
    server.stubFor(
        get(urlPathEqualTo("/Procedure"))
            .willReturn(
                aResponse().withHeader("Content-Type", "application/fhir+json").withBody(body)));
    MemoryBudget memory = new MemoryBudget(body.length() * 2L, Duration.ofMillis(100));
    Map<String, PrefetchValue> prefetch = full();
    prefetch.remove("procedures");
    PatientDataLoader loader = loader(SETTINGS, memory);
    try (MemoryBudget.Reservation held = memory.reserve()) {
      assertThat(held.add(body.length() * 3L / 2)).isTrue();
      PatientRecord starved = loader.load(TEMPLATES, request(prefetch, server.baseUrl()));
      assertThat(starved.outcomes())
          .filteredOn(o -> o.key().equals("procedures"))
          .singleElement()
          .satisfies(
              o -> {
                assertThat(o.reason()).contains("memory budget is full");
                assertThat(o.failure()).isEqualTo("memory_full");
              });
    }
    assertThat(loader.load(TEMPLATES, request(prefetch, server.baseUrl())).unavailable()).isEmpty();
  }
}
