package org.backhippain.cds.population;

import java.util.List;
import java.util.Map;
import org.backhippain.cds.cql.RuleCatalog;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;

/**
 * "Imaging without indication" per order, CMS166-style, decided by the content's own defines: every
 * lumbar-spine, SI-joint or hip imaging order (a ServiceRequest the imaging rule's library counts
 * as an imaging draft) evaluated at order-select as of its own date, the order itself the draft.
 *
 * <ul>
 *   <li>denominator: orders for patients in scope (Common {@code "In Scope"});
 *   <li>exclusions: a red flag ({@code "Red Flag Criteria"}: the order shows R1-R4 cards, counted
 *       by rule) or a data gap ({@code "Data Gap"});
 *   <li>numerator: the imaging rule's card fires (episode shorter than its threshold);
 *   <li>the rest of the denominator: after the window, or onset unknown.
 * </ul>
 *
 * Rate = numerator / (denominator − exclusions).
 */
final class ImagingMeasure {
  static final String LIBRARY = "ImagingNotIndicated";
  static final String COMMON = "Common";
  static final String DRAFTS = "Imaging Draft References";
  static final String INCLUSION = "Inclusion Criteria";
  static final String RED_FLAGS = "Red Flag Criteria";
  static final String DATA_GAP = "Data Gap";
  static final String IN_SCOPE = "In Scope";
  static final String DURATION = "Episode Duration Days";

  /** The defines asked for at each order (and {@code In Scope} at patient-view). */
  static final Map<String, List<String>> ORDER_DEFINES =
      Map.of(
          LIBRARY,
          List.of(DRAFTS, INCLUSION, RED_FLAGS, DATA_GAP),
          COMMON,
          List.of(IN_SCOPE, DURATION));

  static final Map<String, List<String>> PATIENT_DEFINES = Map.of(COMMON, List.of(IN_SCOPE));

  // An order's outcome, in the order they are decided.
  static final String UNDATED = "undated";
  static final String ERROR = "not evaluated (error)";
  static final String OUT_OF_SCOPE = "out of scope";
  static final String RED_FLAG = "excluded: red flag";
  static final String GAP = "excluded: data gap";
  static final String NUMERATOR = "numerator: imaging not indicated";
  static final String ONSET_UNKNOWN = "onset unknown";
  static final String AFTER_WINDOW = "after the window";

  /** Outcomes in the denominator, in report order. */
  static final List<String> DENOMINATOR =
      List.of(RED_FLAG, GAP, NUMERATOR, ONSET_UNKNOWN, AFTER_WINDOW);

  private ImagingMeasure() {}

  /** The imaging rule's id (the rule whose library is ImagingNotIndicated). */
  static String ruleId(RuleCatalog catalog) {
    return catalog.rules().stream()
        .filter(r -> r.libraryName().equals(LIBRARY))
        .map(RuleDefinition::ruleId)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("content has no " + LIBRARY + " rule"));
  }

  static String key(String library, String define) {
    return library + "." + define;
  }

  /** Whether the engine counts the order as an imaging draft; null when it could not say. */
  static Boolean isImaging(RuleEngine.Evaluation evaluation) {
    Object drafts = evaluation.defines().get(key(LIBRARY, DRAFTS));
    return drafts instanceof List<?> list ? !list.isEmpty() : null;
  }

  /** The order's outcome from its evaluation; {@code fired}: the imaging card fired. */
  static String outcome(RuleEngine.Evaluation evaluation, boolean fired) {
    Map<String, Object> d = evaluation.defines();
    if (!d.containsKey(key(COMMON, IN_SCOPE)) || !d.containsKey(key(LIBRARY, RED_FLAGS))) {
      return ERROR;
    }
    if (!evaluation.isTrue(key(COMMON, IN_SCOPE))) {
      return OUT_OF_SCOPE;
    }
    if (evaluation.isTrue(key(LIBRARY, RED_FLAGS))) {
      return RED_FLAG;
    }
    if (evaluation.isTrue(key(LIBRARY, DATA_GAP))) {
      return GAP;
    }
    if (fired) {
      return NUMERATOR;
    }
    return d.get(key(COMMON, DURATION)) == null ? ONSET_UNKNOWN : AFTER_WINDOW;
  }
}
