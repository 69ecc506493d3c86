package org.backhippain.cds.service.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A snooze knows a triggering fact by what it is (type and resource, or type, code and date), never
 * by how the card shows it, so that a daily-changing detail does not end it.
 */
class FactIdentityTests {

  static Map<String, Object> fact(
      String ref, String code, String display, String date, String detail) {
    Map<String, Object> fact = new HashMap<>();
    fact.put("type", "MedicationRequest");
    fact.put("ref", ref);
    fact.put("code", code);
    fact.put("display", display);
    fact.put("date", date);
    fact.put("daysAgo", 3);
    fact.put("detail", detail);
    return fact;
  }

  static java.util.Set<String> hashes(Map<String, Object> fact) {
    return FactHashes.of(Map.of("facts", List.of(fact)));
  }

  @Test
  void aFactWithAnIdIsKnownByTypeAndReference() {
    var before = hashes(fact("MedicationRequest/m1", "rx|1", "prednisone", "2026-06-01", "5 d"));
    assertThat(hashes(fact("MedicationRequest/m1", "rx|2", "Prednisone 5 mg", "2026-06-02", "6 d")))
        .isEqualTo(before);
    assertThat(hashes(fact("MedicationRequest/m2", "rx|1", "prednisone", "2026-06-01", "5 d")))
        .isNotEqualTo(before);
  }

  @Test
  void aFactWithoutAnIdIsKnownByTypeCodeAndDateNotByItsText() {
    var criterion =
        hashes(fact(null, "long-term-systemic-corticosteroids", "prednisone", null, "101 days"));
    assertThat(
            hashes(
                fact(
                    null,
                    "long-term-systemic-corticosteroids",
                    "prednisone, dexamethasone",
                    null,
                    "132 days")))
        .isEqualTo(criterion);
    assertThat(hashes(fact(null, "rx|1", "prednisone", "2026-06-01", null)))
        .isNotEqualTo(hashes(fact(null, "rx|1", "prednisone", "2026-06-02", null)));
  }
}
