package org.backhippain.cds.service.feedback;

import java.time.Instant;
import java.util.Set;

/** A rule kept silent for one patient until a time, unless a new triggering fact appears. */
record Snooze(
    String patientHash, String ruleId, Instant until, Set<String> factHashes, String reason) {}
