package org.backhippain.cds.service.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.service.discovery.ServiceCatalog;
import org.backhippain.cds.service.system.CdsException;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /cds-services/{id}/feedback} (CDS Hooks §Feedback). */
@RestController
class FeedbackController {
  private final FeedbackService feedback;
  private final ServiceCatalog services;

  FeedbackController(FeedbackService feedback, ServiceCatalog services) {
    this.feedback = feedback;
    this.services = services;
  }

  @PostMapping(
      path = "/cds-services/{id}/feedback",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> receive(@PathVariable String id, @RequestBody JsonNode body) {
    services
        .service(id)
        .orElseThrow(() -> CdsException.notFound("no CDS service with id '" + id + "'"));
    List<FeedbackService.EntryError> errors;
    try {
      errors = feedback.receive(id, body);
    } catch (org.springframework.dao.DataAccessException e) {
      // The batch is one transaction: nothing of it was written.
      org.slf4j.LoggerFactory.getLogger(FeedbackController.class)
          .error("feedback refused: storage unavailable ({})", e.getClass().getSimpleName());
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
