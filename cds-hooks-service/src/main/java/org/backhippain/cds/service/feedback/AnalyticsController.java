package org.backhippain.cds.service.feedback;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /cds-services/analytics}: per rule, cards shown, accepted, overridden (by reason) and
 * snoozed. Protected by an operator credential (HTTP Basic, {@code cds.analytics.*}), not the EHR's
 * JWT; off when no credential is configured.
 */
@RestController
class AnalyticsController {
  private final FeedbackStore store;
  private final String username;
  private final String password;

  AnalyticsController(
      FeedbackStore store,
      @Value("${cds.analytics.username:}") String username,
      @Value("${cds.analytics.password:}") String password) {
    this.store = store;
    this.username = username;
    this.password = password;
  }

  @GetMapping(path = "/cds-services/analytics", produces = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> analytics(
      @RequestHeader(name = "Authorization", required = false) String auth) {
    if (username.isBlank() || password.isBlank()) {
      return error(HttpStatus.NOT_FOUND, "not_found", "analytics is not configured");
    }
    if (!authorized(auth)) {
      return ResponseEntity.status(HttpStatus.UNAUTHORIZED)
          .header("WWW-Authenticate", "Basic realm=\"cds-analytics\"")
          .body(
              Map.of(
                  "error",
                  "unauthorized",
                  "status",
                  401,
                  "message",
                  "operator credential required"));
    }
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
    return ResponseEntity.ok(Map.of("rules", rules));
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Basic ")) {
      return false;
    }
    byte[] given;
    try {
      given = Base64.getDecoder().decode(header.substring(6).strip());
    } catch (IllegalArgumentException e) {
      return false;
    }
    byte[] expected = (username + ":" + password).getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, expected);
  }

  private static ResponseEntity<?> error(HttpStatus status, String error, String message) {
    return ResponseEntity.status(status)
        .body(Map.of("error", error, "status", status.value(), "message", message));
  }
}
