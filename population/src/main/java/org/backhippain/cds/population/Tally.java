package org.backhippain.cds.population;

import java.io.Serializable;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The population's counts, built per partition from the patients' outcomes and merged on the
 * driver: patients and patients in scope, patients with each card overall and by age band, sex and
 * organisation, the imaging orders by their place in the measure, the codes no value set matched,
 * and what could not be evaluated. Counts only.
 */
final class Tally implements Serializable {
  static final String AGE = "age";
  static final String SEX = "sex";
  static final String ORGANISATION = "organisation";
  static final String NO_ORGANISATION = "(none)";

  long patients;
  long inScope;
  long ruleErrors;
  final TreeMap<String, Long> notEvaluated = new TreeMap<>();
  long unknownPatients;
  final TreeMap<String, Long> unknownPatientResources = new TreeMap<>();

  /** Rule id → patients with its card. */
  final TreeMap<String, Long> cards = new TreeMap<>();

  /** Rule id → cards (the imaging rule: one per order). */
  final TreeMap<String, Long> cardCount = new TreeMap<>();

  /** Patients with at least one imaging order in the measure's denominator. */
  long imagingPatientsInScope;

  /** {@code dimension|value} → patients, and patients in scope. */
  final TreeMap<String, Long> patientsBy = new TreeMap<>();

  final TreeMap<String, Long> inScopeBy = new TreeMap<>();

  /** {@code dimension|value|ruleId} → patients with the card. */
  final TreeMap<String, Long> cardsBy = new TreeMap<>();

  /** Imaging orders by outcome ({@link ImagingMeasure}). */
  final TreeMap<String, Long> orders = new TreeMap<>();

  /** Rule id → imaging orders excluded by that red flag. */
  final TreeMap<String, Long> orderFlags = new TreeMap<>();

  /** {@code system|code|display} → {patients, resources}. */
  final TreeMap<String, long[]> unmatched = new TreeMap<>();

  /** Organisation key (id or identifier value) → name. */
  final TreeMap<String, String> organizations = new TreeMap<>();

  static Iterator<Tally> of(Iterator<PatientOutcome> outcomes) {
    Tally tally = new Tally();
    outcomes.forEachRemaining(tally::add);
    return List.of(tally).iterator();
  }

  void add(PatientOutcome o) {
    switch (o.getKind()) {
      case PatientOutcome.ORGANIZATION -> {
        String name = o.getName() == null ? o.getId() : o.getName();
        organizations.put(o.getId(), name);
        o.getAliases().forEach(a -> organizations.put(a, name));
      }
      case PatientOutcome.UNKNOWN_PATIENT -> {
        unknownPatients++;
        o.getSkippedTypes().forEach(t -> unknownPatientResources.merge(t, 1L, Long::sum));
      }
      case PatientOutcome.NOT_EVALUATED -> notEvaluated.merge(o.getName(), 1L, Long::sum);
      default -> addPatient(o);
    }
  }

  private void addPatient(PatientOutcome o) {
    patients++;
    ruleErrors += o.getRuleErrors();
    String[] dims = {
      AGE + "|" + o.getAgeBand(),
      SEX + "|" + o.getSex(),
      ORGANISATION + "|" + (o.getOrganization() == null ? NO_ORGANISATION : o.getOrganization())
    };
    for (String dim : dims) {
      patientsBy.merge(dim, 1L, Long::sum);
    }
    if (o.isInScope()) {
      inScope++;
      for (String dim : dims) {
        inScopeBy.merge(dim, 1L, Long::sum);
      }
    }
    Set<String> rules = new HashSet<>();
    for (PatientOutcome.RuleHit hit : o.getHits()) {
      rules.add(hit.getRuleId());
      cardCount.merge(hit.getRuleId(), 1L, Long::sum);
    }
    for (String rule : rules) {
      cards.merge(rule, 1L, Long::sum);
      for (String dim : dims) {
        cardsBy.merge(dim + "|" + rule, 1L, Long::sum);
      }
    }
    boolean imagingInScope = false;
    for (PatientOutcome.OrderOutcome order : o.getOrders()) {
      orders.merge(order.getOutcome(), 1L, Long::sum);
      order.getRedFlags().forEach(f -> orderFlags.merge(f, 1L, Long::sum));
      imagingInScope |= ImagingMeasure.DENOMINATOR.contains(order.getOutcome());
    }
    if (imagingInScope) {
      imagingPatientsInScope++;
    }
    Map<String, Long> codes = new TreeMap<>();
    o.getUnmatchedCodes().forEach(c -> codes.merge(c, 1L, Long::sum));
    codes.forEach(
        (code, resources) -> {
          long[] counts = unmatched.computeIfAbsent(code, k -> new long[2]);
          counts[0]++;
          counts[1] += resources;
        });
  }

  Tally merge(Tally other) {
    patients += other.patients;
    inScope += other.inScope;
    ruleErrors += other.ruleErrors;
    unknownPatients += other.unknownPatients;
    imagingPatientsInScope += other.imagingPatientsInScope;
    sum(notEvaluated, other.notEvaluated);
    sum(unknownPatientResources, other.unknownPatientResources);
    sum(cards, other.cards);
    sum(cardCount, other.cardCount);
    sum(patientsBy, other.patientsBy);
    sum(inScopeBy, other.inScopeBy);
    sum(cardsBy, other.cardsBy);
    sum(orders, other.orders);
    sum(orderFlags, other.orderFlags);
    other.unmatched.forEach(
        (code, counts) -> {
          long[] mine = unmatched.computeIfAbsent(code, k -> new long[2]);
          mine[0] += counts[0];
          mine[1] += counts[1];
        });
    organizations.putAll(other.organizations);
    return this;
  }

  private static void sum(Map<String, Long> into, Map<String, Long> from) {
    from.forEach((k, v) -> into.merge(k, v, Long::sum));
  }

  long orders(String outcome) {
    return orders.getOrDefault(outcome, 0L);
  }

  /** Orders in the denominator: for patients in scope. */
  long denominator() {
    return ImagingMeasure.DENOMINATOR.stream().mapToLong(this::orders).sum();
  }

  long exclusions() {
    return orders(ImagingMeasure.RED_FLAG) + orders(ImagingMeasure.GAP);
  }

  /** Numerator ÷ (denominator − exclusions), or null when nothing is left to divide by. */
  Double imagingRate() {
    long eligible = denominator() - exclusions();
    return eligible == 0 ? null : (double) orders(ImagingMeasure.NUMERATOR) / eligible;
  }
}
