package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The fuzz run (jqwik, fixed seed: the same {@value #TRIES} requests every run): valid requests of
 * the three kinds — patient-view with a whole record prefetched, order-select with draft orders and
 * prefetch, feedback on cards the service issued — mutated by type swaps, nulls, removals, deep
 * nesting, huge strings, invalid dates and date-times in every date element, unknown fields, wrong
 * {@code resourceType}s, 10,000-entry bundles, references to other patients and CR/LF (and other
 * line breaks) in every string. Every answer: no 5xx but the documented 503 with {@code
 * Retry-After}, within 10 s, a JSON body without a Java class name or stack trace; and no log line
 * started by request content.
 */
class RequestFuzzTests {
  static final int TRIES = 2_000;
  static final long MAX_MILLIS = 10_000;
  static final String FORGED = "FORGED-LINE";
  static final Pattern JAVA_NAME =
      Pattern.compile(
          "Exception|\\tat |\\b(java|javax|jakarta|sun|com\\.fasterxml|ca\\.uhn|org\\.hl7"
              + "|org\\.springframework|org\\.backhippain|org\\.opencds|org\\.cqframework"
              + "|org\\.apache|org\\.h2|com\\.zaxxer)\\.[a-z]");
  static final JsonNodeFactory F = JsonNodeFactory.instance;

  static ConfigurableApplicationContext app;
  static HookClient client;
  static HttpClient http;
  static ObjectNode patientView;
  static ObjectNode orderSelect;
  static ObjectNode feedback;
  static ArrayNode bigBundle;
  static final Map<String, AtomicInteger> statuses = new TreeMap<>();
  static final AtomicLong slowest = new AtomicLong();
  static final Map<Mutation, Long> slowestBy = new java.util.EnumMap<>(Mutation.class);
  static long started;
  static long ready;

  @BeforeContainer
  static void start() {
    started = System.nanoTime();
    app =
        SpringApplication.run(
            CdsApplication.class,
            "--server.port=0",
            "--spring.profiles.active=demo",
            "--spring.main.banner-mode=off",
            "--spring.datasource.url=jdbc:h2:mem:fuzz;DB_CLOSE_DELAY=-1",
            "--logging.level.root=WARN");
    int port = ((WebServerApplicationContext) app).getWebServer().getPort();
    client = new HookClient(port);
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String pv = "back-hip-pain-patient-view";
    patientView =
        client.prefetched(
            HookClient.request("patient-view", "whole-record"), pv, client.fhirBase());
    orderSelect =
        client.prefetched(
            HookClient.request("order-select", "r7-pos-41d"),
            "back-hip-pain-order-select",
            client.fhirBase());
    HookClient.mriDrafted(orderSelect, "2026-06-14T09:30:00Z");
    ((ArrayNode) orderSelect.path("context").path("draftOrders").path("entry"))
        .addObject()
        .set(
            "resource",
            HookClient.json(
                "{\"resourceType\":\"MedicationRequest\",\"id\":\"pred\",\"status\":\"draft\","
                    + "\"intent\":\"order\",\"authoredOn\":\"2026-06-14\","
                    + "\"medicationCodeableConcept\":{\"coding\":[{\"system\":"
                    + "\"http://www.nlm.nih.gov/research/umls/rxnorm\",\"code\":\"312615\"}]},"
                    + "\"subject\":{\"reference\":\"Patient/r7-pos-41d\"}}"));
    var answer = client.post(pv, patientView);
    assertThat(answer.status()).as(answer.raw()).isEqualTo(200);
    feedback = F.objectNode();
    ArrayNode entries = feedback.putArray("feedback");
    for (JsonNode card : answer.body().path("cards")) {
      ObjectNode entry = entries.addObject().put("card", card.path("uuid").asText());
      if (card.path("suggestions").size() > 0) {
        entry.put("outcome", "accepted");
        entry
            .putArray("acceptedSuggestions")
            .addObject()
            .put("id", card.path("suggestions").path(0).path("uuid").asText());
      } else {
        entry.put("outcome", "overridden");
        if (card.has("overrideReasons")) {
          entry.putObject("overrideReason").set("reason", card.path("overrideReasons").path(0));
        }
      }
      entry.put("outcomeTimestamp", "2026-06-15T10:15:00Z");
    }
    assertThat(entries.size()).as("feedback on several cards").isGreaterThan(2);
    ready = System.nanoTime();
    bigBundle = F.arrayNode();
    for (int i = 0; i < 10_000; i++) {
      ObjectNode condition =
          bigBundle.addObject().putObject("resource").put("resourceType", "Condition");
      condition.put("id", "bulk-" + i);
      condition.putObject("subject").put("reference", "Patient/whole-record");
      condition
          .putObject("code")
          .putArray("coding")
          .addObject()
          .put("system", "http://snomed.info/sct")
          .put("code", i % 10 == 0 ? "279039007" : "38341003");
      condition.put("recordedDate", "2026-0" + (1 + i % 9) + "-1" + (i % 10));
    }
  }

  @AfterContainer
  static void stop() {
    if (app != null) {
      app.close();
    }
    System.out.printf(
        "RequestFuzzTests: %d requests in %d s (%d s with start-up), slowest %d ms, slowest by"
            + " mutation %s, statuses %s%n",
        statuses.values().stream().mapToInt(AtomicInteger::get).sum(),
        Duration.ofNanos(System.nanoTime() - ready).toSeconds(),
        Duration.ofNanos(System.nanoTime() - started).toSeconds(),
        slowest.get(),
        slowestBy,
        statuses);
  }

  enum Kind {
    PATIENT_VIEW,
    ORDER_SELECT,
    FEEDBACK
  }

  enum Mutation {
    TYPE_SWAP,
    NULL,
    REMOVE,
    TRUNCATE,
    DEEP_NESTING,
    HUGE_STRING,
    INVALID_DATES,
    UNKNOWN_FIELD,
    RESOURCE_TYPE,
    BIG_BUNDLE,
    OTHER_PATIENT,
    LINE_BREAKS
  }

  record Step(Mutation mutation, long seed) {}

  record Case(Kind kind, List<Step> steps) {}

  @Property(
      tries = TRIES,
      seed = "20261201",
      shrinking = ShrinkingMode.OFF,
      edgeCases = EdgeCasesMode.NONE)
  void mutatedRequestsGetADefinedAnswer(@ForAll("cases") Case fuzz) throws Exception {
    ObjectNode request =
        switch (fuzz.kind()) {
          case PATIENT_VIEW -> patientView.deepCopy();
          case ORDER_SELECT -> orderSelect.deepCopy();
          case FEEDBACK -> feedback.deepCopy();
        };
    for (Step step : fuzz.steps()) {
      apply(step, request, fuzz.kind());
    }
    String path =
        switch (fuzz.kind()) {
          case PATIENT_VIEW -> "back-hip-pain-patient-view";
          case ORDER_SELECT -> "back-hip-pain-order-select";
          case FEEDBACK -> "back-hip-pain-patient-view/feedback";
        };
    int logged = CapturedLogs.LINES.size();
    String body = request.toString();
    long start = System.nanoTime();
    HttpResponse<String> response;
    try {
      response =
          http.send(
              HttpRequest.newBuilder(URI.create(client.base() + "/cds-services/" + path))
                  .header("Content-Type", "application/json")
                  .timeout(Duration.ofSeconds(30))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (HttpTimeoutException e) {
      throw new AssertionError("no answer within 30 s to " + describe(fuzz), e);
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    slowest.accumulateAndGet(millis, Math::max);
    synchronized (slowestBy) {
      fuzz.steps().forEach(step -> slowestBy.merge(step.mutation(), millis, Math::max));
    }
    statuses
        .computeIfAbsent(String.valueOf(response.statusCode()), s -> new AtomicInteger())
        .incrementAndGet();
    String what = describe(fuzz) + " -> " + response.statusCode() + " " + abbreviated(response);
    assertThat(millis).as("answered within 10 s: " + what).isLessThan(MAX_MILLIS);
    if (response.statusCode() == 503) {
      assertThat(response.headers().firstValue("Retry-After")).as(what).isPresent();
    } else {
      assertThat(response.statusCode()).as(what).isLessThan(500);
    }
    assertThat(JAVA_NAME.matcher(response.body()).find())
        .as("no Java class name or stack trace: " + what)
        .isFalse();
    if (!response.body().isEmpty()) {
      JsonNode answer = HookClient.JSON.readTree(response.body());
      if (response.statusCode() != 200) {
        assertThat(answer.path("error").asText()).as(what).isNotBlank();
      }
    }
    List<String> lines =
        new ArrayList<>(CapturedLogs.LINES.subList(logged, CapturedLogs.LINES.size()));
    assertThat(LogHygieneTests.forgedLines(lines)).as("log lines forged by " + what).isEmpty();
  }

  static String describe(Case fuzz) {
    return fuzz.kind() + " " + fuzz.steps();
  }

  static String abbreviated(HttpResponse<String> response) {
    String body = response.body();
    return body.length() <= 300 ? body : body.substring(0, 300) + "...";
  }

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<Kind> kinds = Arbitraries.of(Kind.values());
    Arbitrary<Mutation> mutations =
        Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(12, Arbitraries.just(Mutation.TYPE_SWAP)),
            net.jqwik.api.Tuple.of(8, Arbitraries.just(Mutation.NULL)),
            net.jqwik.api.Tuple.of(8, Arbitraries.just(Mutation.REMOVE)),
            net.jqwik.api.Tuple.of(5, Arbitraries.just(Mutation.TRUNCATE)),
            net.jqwik.api.Tuple.of(4, Arbitraries.just(Mutation.DEEP_NESTING)),
            net.jqwik.api.Tuple.of(4, Arbitraries.just(Mutation.HUGE_STRING)),
            net.jqwik.api.Tuple.of(12, Arbitraries.just(Mutation.INVALID_DATES)),
            net.jqwik.api.Tuple.of(6, Arbitraries.just(Mutation.UNKNOWN_FIELD)),
            net.jqwik.api.Tuple.of(6, Arbitraries.just(Mutation.RESOURCE_TYPE)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(Mutation.BIG_BUNDLE)),
            net.jqwik.api.Tuple.of(6, Arbitraries.just(Mutation.OTHER_PATIENT)),
            net.jqwik.api.Tuple.of(10, Arbitraries.just(Mutation.LINE_BREAKS)));
    Arbitrary<Step> steps = Combinators.combine(mutations, Arbitraries.longs()).as(Step::new);
    return Combinators.combine(kinds, steps.list().ofMinSize(1).ofMaxSize(3)).as(Case::new);
  }

  // ---- the mutations -----------------------------------------------------------------------

  /** Bad values for date, dateTime and instant elements alike. */
  static final List<String> BAD_DATES =
      List.of(
          "2024-06-15T10:00:00",
          "2024-06-15T10:00:00Z",
          "2024-13-45",
          "2024-02-30",
          "0000-01-01",
          "99999-01-01",
          "2024-06-15T25:00:00Z",
          "2024-06-15T10:00",
          "2024-06-15T10:00:00+25:00",
          "2024-06-15T10:00:00.1234567890123Z",
          "2024-6-5",
          "15/06/2024",
          "yesterday",
          "",
          " 2024-06-15",
          "2024",
          "2024-06",
          "-2024-06-15",
          "2024-06-15T10:00:00-00:00");

  static final Pattern DATE_LIKE = Pattern.compile("-?\\d{4}(-\\d{2}(-\\d{2})?)?(T.*)?");

  static final List<String> LINE_BREAK_KINDS =
      List.of("\r\n", "\n", "\r", "\u2028", "\u2029", "\u0085", "\u000b", "\u000c");

  static void apply(Step step, ObjectNode root, Kind kind) {
    Random random = new Random(step.seed());
    List<Slot> slots = new ArrayList<>();
    collect(root, slots);
    if (slots.isEmpty()) {
      return;
    }
    Slot slot = slots.get(random.nextInt(slots.size()));
    switch (step.mutation()) {
      case TYPE_SWAP -> slot.set(swapped(slot.get(), random));
      case NULL -> slot.set(F.nullNode());
      case REMOVE -> slot.remove();
      case TRUNCATE -> {
        JsonNode current = slot.get();
        slot.set(
            current != null && current.isTextual()
                ? F.textNode(current.asText().substring(0, current.asText().length() / 2))
                : F.textNode(""));
      }
      case DEEP_NESTING -> slot.set(nested(20 + random.nextInt(140), random.nextBoolean()));
      case HUGE_STRING -> slot.set(F.textNode("x".repeat(65_536 << random.nextInt(5))));
      case INVALID_DATES -> {
        boolean all = random.nextBoolean();
        for (Slot s : slots) {
          JsonNode value = s.get();
          if (value != null
              && value.isTextual()
              && DATE_LIKE.matcher(value.asText()).matches()
              && (all || random.nextInt(3) == 0)) {
            s.set(F.textNode(BAD_DATES.get(random.nextInt(BAD_DATES.size()))));
          }
        }
      }
      case UNKNOWN_FIELD -> {
        List<ObjectNode> objects = new ArrayList<>();
        objects.add(root);
        slots.stream()
            .map(Slot::get)
            .filter(ObjectNode.class::isInstance)
            .forEach(o -> objects.add((ObjectNode) o));
        ObjectNode target = objects.get(random.nextInt(objects.size()));
        target.set("unknown" + random.nextInt(1000), swapped(F.nullNode(), random));
        target.set("_" + random.nextInt(10), F.objectNode().put("extension", "x"));
      }
      case RESOURCE_TYPE -> {
        List<Slot> types = slots.stream().filter(s -> "resourceType".equals(s.key)).toList();
        if (!types.isEmpty()) {
          JsonNode[] choices = {
            F.textNode("Nope"), F.textNode("Patient"), F.textNode("Observation"),
            F.textNode("Bundle"), F.textNode("OperationOutcome"), F.textNode(""),
            F.numberNode(5), F.nullNode(), F.textNode("patient")
          };
          types.get(random.nextInt(types.size())).set(choices[random.nextInt(choices.length)]);
        }
      }
      case BIG_BUNDLE -> {
        ObjectNode bundle = F.objectNode().put("resourceType", "Bundle").put("type", "searchset");
        bundle.set("entry", bigBundle.deepCopy());
        if (kind == Kind.FEEDBACK) {
          ArrayNode entries = F.arrayNode();
          JsonNode first = root.path("feedback").path(0);
          for (int i = 0; i < 10_000; i++) {
            entries.add(first.isMissingNode() ? F.objectNode() : first.deepCopy());
          }
          root.set("feedback", entries);
        } else if (kind == Kind.ORDER_SELECT && random.nextBoolean()) {
          ObjectNode drafts = bundle.deepCopy().put("type", "collection");
          ((ObjectNode) root.get("context")).set("draftOrders", drafts);
        } else if (root.get("prefetch") instanceof ObjectNode prefetch) {
          List<String> keys = new ArrayList<>();
          prefetch.fieldNames().forEachRemaining(keys::add);
          keys.remove("patient");
          prefetch.set(keys.get(random.nextInt(keys.size())), bundle);
        }
      }
      case OTHER_PATIENT -> {
        for (Slot s : slots) {
          JsonNode value = s.get();
          if (value != null
              && value.isTextual()
              && value.asText().startsWith("Patient/")
              && random.nextBoolean()) {
            s.set(F.textNode("Patient/someone-else"));
          }
        }
        if (root.path("prefetch").path("patient") instanceof ObjectNode patient
            && random.nextInt(4) == 0) {
          patient.put("id", "someone-else");
        }
      }
      case LINE_BREAKS -> {
        boolean all = random.nextBoolean();
        for (Slot s : slots) {
          JsonNode value = s.get();
          if (value != null && value.isTextual() && (all || random.nextInt(4) == 0)) {
            String lineBreak = LINE_BREAK_KINDS.get(random.nextInt(LINE_BREAK_KINDS.size()));
            s.set(
                F.textNode(
                    value.asText()
                        + lineBreak
                        + FORGED
                        + " 12:00:00.000 ERROR [x] o.b.c.s.h.HookService - forged"));
          }
        }
      }
    }
  }

  static JsonNode swapped(JsonNode current, Random random) {
    JsonNode[] choices = {
      F.nullNode(),
      F.numberNode(random.nextInt()),
      F.numberNode(random.nextDouble() * 1e30),
      F.booleanNode(random.nextBoolean()),
      F.textNode(Long.toString(random.nextLong(), 36)),
      F.arrayNode(),
      F.objectNode(),
      F.arrayNode().add(1).add("a").addNull(),
      F.objectNode().put("a", 1),
      F.textNode("order-sign"),
      F.objectNode().put("resourceType", "OperationOutcome"),
      F.objectNode().put("resourceType", "Bundle").put("type", "searchset")
    };
    JsonNode next;
    do {
      next = choices[random.nextInt(choices.length)];
    } while (current != null && next.getNodeType() == current.getNodeType() && !next.isObject());
    return next;
  }

  static JsonNode nested(int depth, boolean arrays) {
    JsonNode node = F.textNode("bottom");
    for (int i = 0; i < depth; i++) {
      node = arrays ? F.arrayNode().add(node) : F.objectNode().set("n", node);
    }
    return node;
  }

  /** Where a value sits: an object's field or an array's element. */
  static final class Slot {
    final JsonNode parent;
    final String key;
    final int index;

    Slot(JsonNode parent, String key, int index) {
      this.parent = parent;
      this.key = key;
      this.index = index;
    }

    JsonNode get() {
      return parent.isObject() ? parent.get(key) : parent.get(index);
    }

    void set(JsonNode value) {
      if (parent instanceof ObjectNode object) {
        object.set(key, value);
      } else if (parent instanceof ArrayNode array && index < array.size()) {
        array.set(index, value);
      }
    }

    void remove() {
      if (parent instanceof ObjectNode object) {
        object.remove(key);
      } else if (parent instanceof ArrayNode array && index < array.size()) {
        array.remove(index);
      }
    }

    @Override
    public String toString() {
      return key != null ? key : "[" + index + "]";
    }
  }

  static void collect(JsonNode node, List<Slot> slots) {
    if (node.isObject()) {
      List<String> names = new ArrayList<>();
      node.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        slots.add(new Slot(node, name, -1));
        collect(node.get(name), slots);
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        slots.add(new Slot(node, null, i));
        collect(node.get(i), slots);
      }
    }
  }
}
