package org.backhippain.cds.service.system;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The JSON body of every error answer: a stable machine-readable {@code error} code, the HTTP
 * {@code status}, and a {@code message} for the integrator. Never a stack trace.
 */
public record ErrorBody(String error, int status, String message) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Answers with this body from a servlet filter, where no controller advice applies (the filters
   * refuse before Spring MVC runs).
   */
  public void send(HttpServletResponse response) throws IOException {
    response.setStatus(status);
    response.setContentType("application/json");
    JSON.writeValue(response.getWriter(), this);
  }
}
