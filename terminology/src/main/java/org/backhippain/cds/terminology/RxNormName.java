package org.backhippain.cds.terminology;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A parse of an RxNorm concept name into ingredients and dose form: the derivation of a product's
 * ingredients and dose form when no RxNorm relationship table is available (RxNav cannot be
 * reached). RxNorm names follow fixed patterns (RxNorm Technical Documentation, "Term types"):
 *
 * <ul>
 *   <li>SCD {@code [quantity factor] ingredient strength [/ ingredient strength]... dose form},
 *       e.g. {@code 72 HR Fentanyl 0.025 MG/HR Transdermal System};
 *   <li>SBD: the same followed by {@code [Brand]};
 *   <li>GPCK/BPCK {@code {N (SCD or SBD) / N (...)} Pack [Brand]};
 *   <li>SCDF/SBDF {@code ingredient [/ ingredient] dose form [Brand]} (no strength).
 * </ul>
 *
 * The dose form is the text after the last strength (or, without a strength, the longest known dose
 * form the name ends with); each ingredient is a segment before it with its strength removed. A
 * name of ingredients only (IN, MIN, e.g. {@code Acetaminophen/Hydrocodone}) has no dose form
 * ({@code doseForm} null): an ingredient-level code. Component names without a dose form
 * (SCDC/SBDC, e.g. {@code Fentanyl 0.2 MG}) are not products: {@link #parse} returns null.
 */
record RxNormName(String display, List<String> ingredients, String doseForm, String brand) {

  private static final String UNIT =
      "(?:MG|MCG|UNT|MEQ|ML|%|MMOL|GM|G|L|BAU|PNU|AU|IU|CELLS|ORGANISMS)";
  private static final Pattern STRENGTH =
      Pattern.compile(
          "\\s+\\d[\\d.,]*\\s*"
              + UNIT
              + "(?:/(?:ML|HR|ACTUAT|MG|G|L|DAY|SQCM|UNT|MMOL|\\d*\\s*HR))?(?=\\s|$)",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern QUANTITY_FACTOR =
      Pattern.compile(
          "^(?:(?:\\d[\\d.]*\\s+(?:HR|ML|ACTUAT|DAY|MG|G|CM|SQCM|UNT)|Abuse-Deterrent|Breath-Actuated"
              + "|NDA\\d+|BLA\\d+|ANDA\\d+)\\s+)+",
          Pattern.CASE_INSENSITIVE);
  private static final Pattern BRAND = Pattern.compile("^(.*\\S)\\s+\\[([^\\[\\]]+)]$");

  /** An ingredient name or several joined by "/" (IN, MIN): no strength, no dose form. */
  private static final Pattern INGREDIENTS_ONLY =
      Pattern.compile("[A-Za-z][A-Za-z ,-]*(?:\\s*/\\s*[A-Za-z][A-Za-z ,-]*)*");

  private static final Pattern PACK_PART = Pattern.compile("\\d+\\s+\\((.*?)\\)\\s*(?=/|})");

  /**
   * Parses a name; {@code knownForms}: the dose forms seen in names with a strength, to split names
   * without one. Null when the name is not a product with a dose form.
   */
  static RxNormName parse(String display, Collection<String> knownForms) {
    if (display == null || display.isBlank()) {
      return null;
    }
    String s = display.strip();
    String brand = null;
    Matcher b = BRAND.matcher(s);
    if (b.matches()) {
      s = b.group(1);
      brand = b.group(2);
    }
    if (s.startsWith("{")) {
      return pack(display, s, brand, knownForms);
    }
    String name = QUANTITY_FACTOR.matcher(s).replaceFirst("");
    String padded = " " + name;
    Matcher m = STRENGTH.matcher(padded);
    int end = -1;
    while (m.find()) {
      end = m.end();
    }
    List<String> ingredients = new ArrayList<>();
    String form;
    if (end >= 0) {
      form = padded.substring(end).strip();
      for (String segment : padded.substring(0, end).split(" / ")) {
        ingredients.add(STRENGTH.matcher(" " + segment.strip()).replaceAll("").strip());
      }
    } else {
      form =
          knownForms.stream()
              .sorted(Comparator.comparingInt(String::length).reversed())
              .filter(f -> name.toLowerCase(Locale.ROOT).endsWith(" " + f.toLowerCase(Locale.ROOT)))
              .findFirst()
              .orElse(null);
      if (form == null) {
        return INGREDIENTS_ONLY.matcher(name).matches()
            ? new RxNormName(
                display,
                List.of(name.toLowerCase(Locale.ROOT).split("\\s*/\\s*")).stream()
                    .map(String::strip)
                    .toList(),
                null,
                brand)
            : null;
      }
      for (String segment : name.substring(0, name.length() - form.length()).split(" / ")) {
        ingredients.add(segment.strip());
      }
    }
    if (form.isEmpty() || ingredients.stream().anyMatch(String::isEmpty)) {
      return null;
    }
    return new RxNormName(
        display, ingredients.stream().map(i -> i.toLowerCase(Locale.ROOT)).toList(), form, brand);
  }

  private static RxNormName pack(
      String display, String s, String brand, Collection<String> knownForms) {
    Matcher parts = PACK_PART.matcher(s);
    Set<String> ingredients = new LinkedHashSet<>();
    Set<String> forms = new LinkedHashSet<>();
    while (parts.find()) {
      RxNormName part = parse(parts.group(1), knownForms);
      if (part == null) {
        return null;
      }
      ingredients.addAll(part.ingredients());
      forms.add(part.doseForm());
    }
    if (forms.isEmpty()) {
      return null;
    }
    return new RxNormName(
        display,
        List.copyOf(ingredients),
        String.join(" + ", forms.stream().sorted().toList()),
        brand);
  }

  /** True for names with a strength (the forms of these split names without one). */
  static boolean hasStrength(String display) {
    return display != null && STRENGTH.matcher(" " + display).find();
  }
}
