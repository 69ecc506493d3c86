package org.backhippain.cds.service.feedback;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * A card as the log keeps it: what feedback is checked against and a snooze is keyed on. The
 * patient is a keyed hash; facts are hashes of the triggering facts.
 *
 * @param suggestions suggestion uuid → the id of the PlanDefinition action it came from
 */
record IssuedCard(
    String cardUuid,
    String serviceId,
    String ruleId,
    String indicator,
    String patientHash,
    Set<String> factHashes,
    Map<String, String> suggestions,
    Set<String> overrideReasons,
    Instant issuedAt) {}
