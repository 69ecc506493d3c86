package org.backhippain.cds.rulebook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The compiled content as the rule book reads it: each library's ELM (as the package stores it)
 * with its header tags ({@code @plain:}, {@code @when:}, …), parameters (default, type, the
 * {@code @source:} of their comment), value sets and includes; and what a rule's logic uses — the
 * parameters and value sets its library references, directly or through the shared libraries
 * (Common, Config), following each reference the translator resolved. No CQL text is read.
 */
final class ElmModel {
  /** A CQL parameter: default and type as the ELM holds them, the source its comment tags. */
  record Parameter(String name, String value, String type, String source) {}

  /** What a rule's logic uses: Config parameters (by name) and value sets (by canonical URL). */
  record Uses(Set<String> parameters, Set<String> valueSets) {}

  private final Map<String, JsonNode> libraries = new LinkedHashMap<>();

  ElmModel(Map<String, String> elmJson) {
    ObjectMapper json = new ObjectMapper();
    elmJson.forEach(
        (name, text) -> {
          try {
            libraries.put(name, json.readTree(text).path("library"));
          } catch (IOException e) {
            throw new UncheckedIOException("ELM of " + name, e);
          }
        });
  }

  /** The tags of a library's opening comment ({@code @name: value}), values on one line. */
  Map<String, String> headerTags(String library) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (JsonNode annotation : library(library).path("annotation")) {
      for (JsonNode t : annotation.path("t")) {
        tags.put(t.path("name").asText(), oneLine(t.path("value").asText()));
      }
    }
    return tags;
  }

  /**
   * A library's parameters in declaration order; one without a {@code @source:} tag shares the
   * source of the one before it (a comment heads a group of parameters).
   */
  Map<String, Parameter> parameters(String library) {
    Map<String, Parameter> out = new LinkedHashMap<>();
    String source = "";
    for (JsonNode p : library(library).path("parameters").path("def")) {
      for (JsonNode annotation : p.path("annotation")) {
        for (JsonNode t : annotation.path("t")) {
          if (t.path("name").asText().equals("source")) {
            source = oneLine(t.path("value").asText());
          }
        }
      }
      String type = p.path("parameterTypeSpecifier").path("name").asText();
      String name = p.path("name").asText();
      out.put(
          name,
          new Parameter(
              name,
              p.path("default").path("value").asText(),
              type.substring(type.indexOf('}') + 1),
              source));
    }
    return out;
  }

  /**
   * The parameters of {@code config} and the value sets that a rule library's definitions use,
   * following references into the {@code shared} libraries (never into another rule's library,
   * which has its own page).
   */
  Uses uses(String ruleLibrary, Set<String> shared, String config) {
    Set<String> parameters = new LinkedHashSet<>();
    Set<String> valueSets = new LinkedHashSet<>();
    Set<String> seen = new HashSet<>();
    Deque<String[]> work = new ArrayDeque<>();
    for (JsonNode def : library(ruleLibrary).path("statements").path("def")) {
      work.add(new String[] {ruleLibrary, def.path("name").asText()});
    }
    while (!work.isEmpty()) {
      String[] next = work.poll();
      if (!seen.add(next[0] + "\u0000" + next[1])) {
        continue;
      }
      JsonNode library = library(next[0]);
      for (JsonNode def : library.path("statements").path("def")) {
        if (def.path("name").asText().equals(next[1])) {
          walk(def, next[0], shared, config, parameters, valueSets, work);
        }
      }
    }
    return new Uses(parameters, valueSets);
  }

  private void walk(
      JsonNode node,
      String library,
      Set<String> shared,
      String config,
      Set<String> parameters,
      Set<String> valueSets,
      Deque<String[]> work) {
    if (node.isObject()) {
      String type = node.path("type").asText();
      String name = node.path("name").asText();
      String target =
          node.has("libraryName") ? included(library, node.get("libraryName").asText()) : library;
      switch (type) {
        case "ParameterRef" -> {
          if (target.equals(config)) {
            parameters.add(name);
          }
        }
        case "ValueSetRef" -> valueSetUrl(target, name).ifPresent(valueSets::add);
        case "ExpressionRef", "FunctionRef" -> {
          if (target.equals(library) || shared.contains(target)) {
            work.add(new String[] {target, name});
          }
        }
        default -> {}
      }
    }
    for (JsonNode child : node) {
      walk(child, library, shared, config, parameters, valueSets, work);
    }
  }

  private java.util.Optional<String> valueSetUrl(String library, String name) {
    for (JsonNode vs : library(library).path("valueSets").path("def")) {
      if (vs.path("name").asText().equals(name)) {
        return java.util.Optional.of(vs.path("id").asText());
      }
    }
    return java.util.Optional.empty();
  }

  /** The library an include alias of {@code library} names. */
  private String included(String library, String alias) {
    for (JsonNode include : library(library).path("includes").path("def")) {
      if (include.path("localIdentifier").asText().equals(alias)) {
        return include.path("path").asText();
      }
    }
    return alias;
  }

  private JsonNode library(String name) {
    JsonNode library = libraries.get(name);
    if (library == null) {
      throw new IllegalStateException("no ELM for library " + name);
    }
    return library;
  }

  /** The value's lines, each stripped, joined by single spaces. */
  static String oneLine(String value) {
    return String.join(
        " ", value.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
  }

  List<String> names() {
    return List.copyOf(libraries.keySet());
  }
}
