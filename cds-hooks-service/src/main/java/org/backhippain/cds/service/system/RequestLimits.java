package org.backhippain.cds.service.system;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import org.slf4j.MDC;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Every request gets an id (the caller's {@code X-Request-Id}, else a new one) in the log context
 * and the response; hook bodies over {@code cds.max-request-bytes} are refused with 413 before they
 * are read into memory, whether or not they declare a length.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class RequestLimits extends OncePerRequestFilter {
  static final String REQUEST_ID = "requestId";
  private final long maxBytes;

  RequestLimits(CdsProperties properties) {
    this.maxBytes = properties.maxRequestBytes().toBytes();
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String id = request.getHeader("X-Request-Id");
    if (id == null || !id.matches("[A-Za-z0-9._-]{1,64}")) {
      id = UUID.randomUUID().toString();
    }
    MDC.put(REQUEST_ID, id);
    response.setHeader("X-Request-Id", id);
    try {
      if (request.getContentLengthLong() > maxBytes) {
        tooLarge(response);
        return;
      }
      chain.doFilter(new Limited(request, maxBytes), response);
    } catch (BodyTooLargeException e) {
      if (!response.isCommitted()) {
        response.reset();
        tooLarge(response);
      }
    } finally {
      MDC.remove(REQUEST_ID);
    }
  }

  private void tooLarge(HttpServletResponse response) throws IOException {
    logger.info("request refused: 413 body over " + maxBytes + " bytes");
    response.setStatus(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE);
    response.setContentType("application/json");
    response
        .getWriter()
        .write(
            "{\"error\":\"payload_too_large\",\"status\":413,\"message\":\"the request body exceeds "
                + maxBytes
                + " bytes\"}");
  }

  /** Thrown while reading a body that turns out larger than the limit. */
  static final class BodyTooLargeException extends IOException {
    BodyTooLargeException() {
      super("request body too large");
    }
  }

  private static final class Limited extends HttpServletRequestWrapper {
    private final long max;
    private ServletInputStream stream;

    Limited(HttpServletRequest request, long max) {
      super(request);
      this.max = max;
    }

    @Override
    public ServletInputStream getInputStream() throws IOException {
      if (stream == null) {
        ServletInputStream in = super.getInputStream();
        stream =
            new ServletInputStream() {
              private long read;

              @Override
              public int read() throws IOException {
                int b = in.read();
                if (b >= 0 && ++read > max) {
                  throw new BodyTooLargeException();
                }
                return b;
              }

              @Override
              public int read(byte[] buffer, int off, int len) throws IOException {
                int n = in.read(buffer, off, len);
                if (n > 0 && (read += n) > max) {
                  throw new BodyTooLargeException();
                }
                return n;
              }

              @Override
              public boolean isFinished() {
                return in.isFinished();
              }

              @Override
              public boolean isReady() {
                return in.isReady();
              }

              @Override
              public void setReadListener(ReadListener listener) {
                in.setReadListener(listener);
              }
            };
      }
      return stream;
    }
  }
}
