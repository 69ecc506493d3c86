package org.backhippain.cds.service.system;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The JSON body of every error answer: a stable machine-readable {@code error} code, the HTTP
 * {@code status}, a {@code message} for the integrator and, when one field of the request is at
 * fault, its path in {@code field} ({@code context.patientId}, {@code prefetch.patient}...). Never
 * a stack trace or a Java class name.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ErrorBody(String error, int status, String message, String field) {
  static final ObjectMapper JSON = new ObjectMapper();

  public ErrorBody(String error, int status, String message) {
    this(error, status, message, null);
  }

  /**
   * Answers with this body from a servlet filter or Spring Security, where no controller advice
   * applies (they refuse before Spring MVC runs): {@code application/json;charset=UTF-8}, the
   * encoding set before the writer is taken (the container's default would be ISO-8859-1). The
   * response stays open (uncommitted) so that headers can still be added on the way out, such as
   * {@code Connection: close}.
   */
  public void send(HttpServletResponse response) throws IOException {
    response.setStatus(status);
    response.setCharacterEncoding(StandardCharsets.UTF_8.name());
    response.setContentType("application/json;charset=UTF-8");
    // Written, not flushed: the response is committed only on the way out.
    response.getOutputStream().write(JSON.writeValueAsBytes(this));
  }
}
