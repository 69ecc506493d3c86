package org.backhippain.cds.service.system;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.springframework.http.HttpStatus;

/**
 * Errors Tomcat answers itself, before any filter runs (an encoded slash in the path, a malformed
 * request line...), carry the same JSON {@link ErrorBody} as every other error instead of Tomcat's
 * HTML page.
 */
final class ContainerErrors extends ErrorReportValve {

  @Override
  protected void report(Request request, Response response, Throwable throwable) {
    int status = response.getStatus();
    if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
      return;
    }
    AtomicBoolean ioAllowed = new AtomicBoolean();
    response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
    if (!ioAllowed.get()) {
      return;
    }
    HttpStatus known = HttpStatus.resolve(status);
    String phrase = known == null ? "error" : known.getReasonPhrase();
    try {
      response.setContentType("application/json;charset=UTF-8");
      PrintWriter writer = response.getReporter();
      if (writer != null) {
        writer.write(
            ErrorBody.JSON.writeValueAsString(
                new ErrorBody(
                    phrase.toLowerCase(java.util.Locale.ROOT).replace(' ', '_'),
                    status,
                    "the request was refused by the server: " + phrase.toLowerCase())));
        response.finishResponse();
      }
    } catch (Exception ignored) {
      // The connection is going away; nothing more can be said.
    }
  }
}
