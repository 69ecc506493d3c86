package org.backhippain.cds.service.system;

import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;

/**
 * An answer sent before the request body was read (a 401, a 413, a 408...) closes the connection:
 * it carries {@code Connection: close} and Tomcat does not read ("swallow") the rest of the body
 * first, which would hold a thread for as long as a stalled upload keeps the socket open. A Tomcat
 * (engine) valve, since only Tomcat can stop the swallowing, acting once the answer is complete
 * (and after the host's error-page handling, which its error flag would otherwise trigger). Bodies
 * read asynchronously ({@link RequestBodies}) are not swallowed by Tomcat in any case.
 */
final class UnreadBodies extends ValveBase {
  UnreadBodies() {
    super(true);
  }

  @Override
  public void invoke(Request request, Response response) throws IOException, ServletException {
    getNext().invoke(request, response);
    if (!request.isAsync()) {
      org.apache.coyote.Request coyote = request.getCoyoteRequest();
      boolean hasBody =
          coyote.getContentLengthLong() > 0 || coyote.getHeader("Transfer-Encoding") != null;
      if (hasBody && !coyote.isFinished()) {
        close(request, response);
      }
    }
  }

  private static void close(Request request, Response response) {
    if (!response.isCommitted()) {
      response.setHeader("Connection", "close");
    }
    request.getCoyoteRequest().action(ActionCode.DISABLE_SWALLOW_INPUT, null);
  }
}
