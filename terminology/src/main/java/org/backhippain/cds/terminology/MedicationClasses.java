package org.backhippain.cds.terminology;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The product-level medication classes of clinical spec §6h ({@code definitions/medication-classes
 * .json}) over the RxNorm products of the sources: every RxNorm code any source lists, with its
 * ingredients and dose form parsed from its name ({@link RxNormName}). A product is in a class when
 * one of its ingredients is on the class's §6h list and no exclusion of the class applies; products
 * of related ingredients that are not on the list, and products an exclusion sets aside, are
 * reported, not included.
 */
final class MedicationClasses {

  /** One RxNorm product: its name, parsed ingredients (base names) and dose form class. */
  record Product(
      String code,
      String display,
      List<String> ingredients,
      String doseForm,
      String doseFormClass,
      String version,
      List<String> sources) {}

  /** A product of the sources left out of a class, and why. */
  record Reported(String classId, String ingredient, String reason, Product product) {}

  /** A class: its §6h ingredient codes and its member products. */
  record MedicationClass(
      String id, String title, Map<String, String> ingredientCodes, List<Product> products) {}

  private final Map<String, Product> products = new LinkedHashMap<>();
  private final Map<String, MedicationClass> classes = new LinkedHashMap<>();
  private final List<Reported> reported = new ArrayList<>();
  private final Map<String, List<String>> unparsed = new TreeMap<>();
  private final Map<String, String> ingredientCodes = new LinkedHashMap<>();
  private final Map<String, String> doseFormClasses = new LinkedHashMap<>();
  private final List<String> saltWords = new ArrayList<>();
  private final List<String> sourceOrder = new ArrayList<>();
  private final JsonNode expectedForms;

  MedicationClasses(JsonNode definition, Sources sources) {
    definition
        .path("ingredients")
        .fields()
        .forEachRemaining(e -> ingredientCodes.put(e.getKey(), e.getValue().asText()));
    definition
        .path("doseFormClasses")
        .fields()
        .forEachRemaining(e -> doseFormClasses.put(e.getKey(), e.getValue().asText()));
    definition.path("saltWords").forEach(w -> saltWords.add(w.asText()));
    definition.path("sources").forEach(s -> sourceOrder.add(s.asText()));
    expectedForms = definition.path("expectedForms");
    readProducts(sources);
    for (JsonNode c : definition.path("classes")) {
      classify(c);
    }
  }

  private void readProducts(Sources sources) {
    Map<String, List<String>> sourcesOf = new LinkedHashMap<>();
    Map<String, Sources.Code> first = new LinkedHashMap<>();
    for (String key : sourceOrder) {
      for (Sources.Code c : sources.get(key).codes()) {
        if (!Sources.RXNORM.equals(c.system())) {
          continue;
        }
        List<String> in = sourcesOf.computeIfAbsent(c.code(), k -> new ArrayList<>());
        if (!in.contains(key)) {
          in.add(key);
        }
        if (c.display() != null) {
          first.putIfAbsent(c.code(), c);
        }
      }
    }
    for (var e : sourcesOf.entrySet()) {
      Sources.Code c = first.get(e.getKey());
      RxNormName name = c == null ? null : RxNormName.parse(c.display(), doseFormClasses.keySet());
      if (name == null) {
        unparsed
            .computeIfAbsent(e.getValue().get(0), k -> new ArrayList<>())
            .add(e.getKey() + (c == null ? " (no display)" : " " + c.display()));
        continue;
      }
      List<String> ingredients = name.ingredients().stream().map(this::base).distinct().toList();
      products.put(
          e.getKey(),
          new Product(
              e.getKey(),
              c.display(),
              ingredients,
              name.doseForm(),
              formClass(name.doseForm()),
              c.version(),
              List.copyOf(e.getValue())));
    }
  }

  /**
   * The dose form's class; a pack of several forms takes the class they share, else "mixed"; null
   * for an ingredient-level code (no dose form) or a form the definitions do not map.
   */
  private String formClass(String doseForm) {
    if (doseForm == null) {
      return null;
    }
    Set<String> classesOfParts = new LinkedHashSet<>();
    for (String part : doseForm.split(" \\+ ")) {
      classesOfParts.add(doseFormClasses.getOrDefault(part, null));
    }
    if (classesOfParts.contains(null)) {
      return null;
    }
    return classesOfParts.size() == 1 ? classesOfParts.iterator().next() : "mixed";
  }

  /** The ingredient's base name: lower case, salt and ester words dropped ("oxycodone"). */
  String base(String ingredient) {
    String name = ingredient.toLowerCase(Locale.ROOT).replaceAll(",?\\s*\\(?usp\\)?$", "").strip();
    boolean changed = true;
    while (changed) {
      changed = false;
      for (String salt : saltWords) {
        if (name.endsWith(" " + salt) && name.length() > salt.length() + 1) {
          name = name.substring(0, name.length() - salt.length() - 1).strip();
          changed = true;
        }
      }
    }
    return name;
  }

  private void classify(JsonNode c) {
    String id = c.path("id").asText();
    List<Product> members = new ArrayList<>();
    Map<String, String> codes = new LinkedHashMap<>();
    if (c.has("of")) {
      Set<String> forms = strings(c.path("doseFormClasses"));
      for (Product p : classes.get(c.path("of").asText()).products()) {
        if (forms.contains(p.doseFormClass())) {
          members.add(p);
        }
      }
      classes.put(id, new MedicationClass(id, c.path("title").asText(), codes, members));
      return;
    }
    Set<String> ingredients = strings(c.path("ingredients"));
    ingredients.forEach(i -> codes.put(i, code(i)));
    Set<String> related = strings(c.path("related"));
    Set<String> excludedIngredients = strings(c.path("excludedIngredients").path("ingredients"));
    String excludedReason = c.path("excludedIngredients").path("reason").asText();
    Set<String> coExcluded = strings(c.path("excludedByCoIngredient").path("ingredients"));
    String coReason = c.path("excludedByCoIngredient").path("reason").asText();
    Set<String> formExcluded = strings(c.path("excludedDoseFormClasses").path("classes"));
    String formReason = c.path("excludedDoseFormClasses").path("reason").asText();
    for (Product p : products.values()) {
      String onList =
          p.ingredients().stream().filter(ingredients::contains).findFirst().orElse(null);
      if (onList == null) {
        String excluded =
            p.ingredients().stream().filter(excludedIngredients::contains).findFirst().orElse(null);
        if (excluded != null) {
          reported.add(new Reported(id, excluded, excludedReason, p));
        } else {
          p.ingredients().stream()
              .filter(related::contains)
              .findFirst()
              .ifPresent(
                  r -> reported.add(new Reported(id, r, "not on the clinical spec §6h list", p)));
        }
        continue;
      }
      if (p.doseFormClass() == null && p.doseForm() != null) {
        throw new IllegalStateException(
            "dose form '"
                + p.doseForm()
                + "' of "
                + p.code()
                + " "
                + p.display()
                + " has no class in definitions/medication-classes.json doseFormClasses");
      }
      String co = p.ingredients().stream().filter(coExcluded::contains).findFirst().orElse(null);
      if (co != null) {
        reported.add(new Reported(id, co, coReason, p));
      } else if (p.doseFormClass() != null && formExcluded.contains(p.doseFormClass())) {
        reported.add(new Reported(id, p.doseFormClass(), formReason, p));
      } else {
        members.add(p);
      }
    }
    classes.put(id, new MedicationClass(id, c.path("title").asText(), codes, members));
  }

  private String code(String ingredient) {
    String code = ingredientCodes.get(ingredient);
    if (code == null) {
      throw new IllegalStateException("no RxNorm code for ingredient " + ingredient);
    }
    return code;
  }

  private static Set<String> strings(JsonNode array) {
    Set<String> out = new LinkedHashSet<>();
    array.forEach(v -> out.add(v.asText()));
    return out;
  }

  MedicationClass get(String id) {
    MedicationClass c = classes.get(id);
    if (c == null) {
      throw new IllegalStateException("no medication class " + id);
    }
    return c;
  }

  List<MedicationClass> classes() {
    return List.copyOf(classes.values());
  }

  /** The §6h ingredient code of a base name, or null for an ingredient the spec does not list. */
  String ingredientCode(String base) {
    return ingredientCodes.get(base);
  }

  /** Per class: ingredient → the dose form classes it is on the market in. */
  JsonNode expectedForms() {
    return expectedForms;
  }

  List<String> sourceOrder() {
    return List.copyOf(sourceOrder);
  }

  Map<String, Product> products() {
    return products;
  }

  List<Reported> reported() {
    return List.copyOf(reported);
  }

  /** RxNorm codes the sources list that are not products with a dose form, by first source. */
  Map<String, List<String>> unparsed() {
    return unparsed;
  }
}
