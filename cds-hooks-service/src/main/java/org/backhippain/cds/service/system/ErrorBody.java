package org.backhippain.cds.service.system;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The JSON body of every error answer: a stable machine-readable {@code error} code, the HTTP
 * {@code status}, and a {@code message} for the integrator. Never a stack trace.
 */
public record ErrorBody(String error, int status, String message) {
  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Answers with this body from a servlet filter or Spring Security, where no controller advice
   * applies (they refuse before Spring MVC runs). The response stays open (uncommitted) so that
   * headers can still be added on the way out, such as {@code Connection: close}.
   */
  public void send(HttpServletResponse response) throws IOException {
    response.setStatus(status);
    response.setContentType("application/json;charset=UTF-8");
    // Written, not flushed: the response is committed only on the way out.
    response.getWriter().write(JSON.writeValueAsString(this));
  }
}
