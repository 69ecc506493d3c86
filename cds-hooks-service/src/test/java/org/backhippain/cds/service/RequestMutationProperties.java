package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Property: however a valid hook request is mutated (fields removed, replaced by other JSON types,
 * strings truncated, hooks swapped), the service never answers 5xx.
 */
class RequestMutationProperties {
  static ConfigurableApplicationContext app;
  static HookClient client;
  static ObjectNode patientView;
  static ObjectNode orderSelect;

  @BeforeContainer
  static void start() {
    app =
        SpringApplication.run(
            org.backhippain.cds.service.CdsApplication.class,
            "--server.port=0",
            "--spring.profiles.active=demo",
            "--spring.main.banner-mode=off",
            "--logging.level.root=WARN");
    int port = ((WebServerApplicationContext) app).getWebServer().getPort();
    client = new HookClient(port);
    patientView =
        client.prefetched(
            HookClient.request("patient-view", "whole-record"),
            "back-hip-pain-patient-view",
            client.fhirBase());
    orderSelect =
        client.prefetched(
            HookClient.request("order-select", "r7-pos-41d"),
            "back-hip-pain-order-select",
            client.fhirBase());
    ((ObjectNode) orderSelect.get("context"))
        .set(
            "draftOrders",
            HookClient.json(
                "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\":"
                    + "{\"resourceType\":\"ServiceRequest\",\"id\":\"mri\",\"status\":\"draft\","
                    + "\"intent\":\"order\",\"code\":{\"coding\":[{\"system\":"
                    + "\"http://www.ama-assn.org/go/cpt\",\"code\":\"72148\"}]},"
                    + "\"subject\":{\"reference\":\"Patient/r7-pos-41d\"}}}]}"));
  }

  @AfterContainer
  static void stop() {
    app.close();
  }

  @Property(tries = 150)
  void mutatedRequestsNeverGet5xx(
      @ForAll("requests") ObjectNode base, @ForAll("mutations") List<Mutation> mutations) {
    ObjectNode request = base.deepCopy();
    for (Mutation mutation : mutations) {
      mutation.apply(request);
    }
    String service = "back-hip-pain-" + request.path("hook").asText("patient-view");
    var answer = client.post(service, request);
    assertThat(answer.status()).as(request.toString()).isLessThan(500);
    if (answer.status() != 200) {
      assertThat(answer.body().path("error").asText()).isNotBlank();
    }
  }

  @Provide
  Arbitrary<ObjectNode> requests() {
    return Arbitraries.of(patientView, orderSelect);
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    Arbitrary<Mutation> one =
        Arbitraries.integers()
            .between(0, 1_000_000)
            .flatMap(
                seed ->
                    Arbitraries.of(Kind.values())
                        .flatMap(
                            kind -> replacement().map(value -> new Mutation(kind, seed, value))));
    return one.list().ofMinSize(1).ofMaxSize(4);
  }

  Arbitrary<JsonNode> replacement() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return Arbitraries.oneOf(
        Arbitraries.just(f.nullNode()),
        Arbitraries.integers().map(f::numberNode),
        Arbitraries.strings().ofMaxLength(20).map(f::textNode),
        Arbitraries.just(f.arrayNode()),
        Arbitraries.just(f.objectNode()),
        Arbitraries.just(f.textNode("order-sign")),
        Arbitraries.just(f.objectNode().put("resourceType", "OperationOutcome")),
        Arbitraries.just(f.objectNode().put("resourceType", "Bundle").put("type", "searchset")));
  }

  enum Kind {
    REMOVE,
    REPLACE,
    TRUNCATE
  }

  record Mutation(Kind kind, int seed, JsonNode value) {
    void apply(ObjectNode root) {
      List<Object[]> slots = new ArrayList<>();
      collect(root, slots, 0);
      if (slots.isEmpty()) {
        return;
      }
      Object[] slot = slots.get(Math.floorMod(seed, slots.size()));
      JsonNode parent = (JsonNode) slot[0];
      Object key = slot[1];
      JsonNode current = parent.isObject() ? parent.get((String) key) : parent.get((Integer) key);
      JsonNode next =
          switch (kind) {
            case REMOVE -> null;
            case REPLACE -> value;
            case TRUNCATE ->
                current != null && current.isTextual()
                    ? JsonNodeFactory.instance.textNode(
                        current.asText().substring(0, current.asText().length() / 2))
                    : value;
          };
      if (parent instanceof ObjectNode object) {
        if (next == null) {
          object.remove((String) key);
        } else {
          object.set((String) key, next);
        }
      } else if (parent instanceof ArrayNode array) {
        int index = (Integer) key;
        if (next == null) {
          array.remove(index);
        } else {
          array.set(index, next);
        }
      }
    }

    private static void collect(JsonNode node, List<Object[]> slots, int depth) {
      if (depth > 6) {
        return;
      }
      if (node.isObject()) {
        node.fieldNames()
            .forEachRemaining(
                name -> {
                  slots.add(new Object[] {node, name});
                  collect(node.get(name), slots, depth + 1);
                });
      } else if (node.isArray()) {
        for (int i = 0; i < Math.min(node.size(), 3); i++) {
          slots.add(new Object[] {node, i});
          collect(node.get(i), slots, depth + 1);
        }
      }
    }
  }
}
