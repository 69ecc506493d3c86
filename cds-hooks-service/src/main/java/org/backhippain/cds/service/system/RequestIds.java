package org.backhippain.cds.service.system;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import org.slf4j.MDC;

/**
 * Every request gets an id — the caller's {@code X-Request-Id} if well-formed, else a new one — in
 * the log context and the response. First of all filters (refusals by Spring Security carry it
 * too), and again on the request's async and error dispatches.
 */
class RequestIds extends HttpFilter {
  static final String REQUEST_ID = "requestId";
  private static final String ATTRIBUTE = RequestIds.class.getName();

  @Override
  protected void doFilter(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    String id = (String) request.getAttribute(ATTRIBUTE);
    if (id == null) {
      id = request.getHeader("X-Request-Id");
      if (id == null || !id.matches("[A-Za-z0-9._-]{1,64}")) {
        id = UUID.randomUUID().toString();
      }
      request.setAttribute(ATTRIBUTE, id);
      response.setHeader("X-Request-Id", id);
    }
    String outer = MDC.get(REQUEST_ID);
    MDC.put(REQUEST_ID, id);
    try {
      chain.doFilter(request, response);
    } finally {
      if (outer == null) {
        MDC.remove(REQUEST_ID);
      } else {
        MDC.put(REQUEST_ID, outer);
      }
    }
  }
}
