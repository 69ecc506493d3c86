package org.backhippain.cds.service.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.system.CdsException;
import org.backhippain.cds.service.system.CdsProperties;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /cds-services/{id}/feedback} (CDS Hooks §Feedback). A batch of more than {@code
 * cds.feedback.max-entries} entries is refused with 413 before anything is read from or written to
 * the database.
 */
@RestController
class FeedbackController {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(FeedbackController.class);
  private final FeedbackIntake feedback;
  private final ServiceCatalog services;
  private final int maxEntries;

  FeedbackController(FeedbackIntake feedback, ServiceCatalog services, CdsProperties properties) {
    this.feedback = feedback;
    this.services = services;
    this.maxEntries = properties.feedback().maxEntries();
  }

  @PostMapping(
      path = "/cds-services/{id}/feedback",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> receive(@PathVariable String id, @RequestBody JsonNode body) {
    services
        .service(id)
        .orElseThrow(() -> CdsException.notFound("no CDS service with id '" + id + "'"));
    JsonNode entries = body == null ? null : body.get("feedback");
    if (entries != null && entries.isArray() && entries.size() > maxEntries) {
      throw CdsException.tooMany(
          "feedback",
          "a feedback batch holds at most "
              + maxEntries
              + " entries (this one "
              + entries.size()
              + "); send it in smaller batches");
    }
    List<FeedbackIntake.EntryError> errors;
    try {
      errors = feedback.receive(id, body);
    } catch (org.springframework.dao.DataAccessException e) {
      // The batch is one transaction: nothing of it was written.
      log.error("feedback refused: storage unavailable ({})", e.getClass().getSimpleName());
      return ResponseEntity.status(503)
          .body(
              Map.of(
                  "error",
                  "storage_unavailable",
                  "status",
                  503,
                  "message",
                  "feedback cannot be stored now; retry later"));
    }
    if (errors.isEmpty()) {
      return ResponseEntity.ok().build();
    }
    return ResponseEntity.badRequest()
        .body(
            Map.of(
                "error",
                "invalid_feedback",
                "status",
                400,
                "message",
                "no entry was stored: "
                    + errors.size()
                    + " entr"
                    + (errors.size() == 1 ? "y is" : "ies are")
                    + " invalid",
                "entries",
                errors));
  }
}
