package org.backhippain.cds.service.feedback;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /cds-services/analytics}: per rule, cards shown, accepted, overridden (by reason) and
 * snoozed. Only the operator reaches it (HTTP Basic, {@code cds.security.operator.*}; Spring
 * Security answers 401 without it and 403 to an EHR's token).
 */
@RestController
class AnalyticsController {
  private final FeedbackStore store;

  AnalyticsController(FeedbackStore store) {
    this.store = store;
  }

  /** {@code rules} is always present, {@code []} before any card was shown. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  record Analytics(List<Map<String, Object>> rules) {}

  @GetMapping(path = "/cds-services/analytics", produces = MediaType.APPLICATION_JSON_VALUE)
  Analytics analytics() {
    List<Map<String, Object>> rules =
        store.counts().values().stream()
            .map(
                c ->
                    Map.<String, Object>of(
                        "ruleId", c.ruleId,
                        "shown", c.shown,
                        "accepted", c.accepted,
                        "overridden", c.overridden,
                        "overriddenByReason", c.overriddenByReason,
                        "snoozed", c.snoozed))
            .toList();
    return new Analytics(rules);
  }
}
