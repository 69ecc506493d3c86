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
 * and the response; bodies over the size limit are refused with 413 before they are read into
 * memory, whether or not they declare a length.
 *
 * <p>A memory bulkhead keeps large requests from exhausting the heap: a hook body costs several
 * times its size once parsed (JSON tree, HAPI resources, CQL values), so the bodies being handled
 * at once may add up to at most {@link BodyBudget#bytes()} — a share of the maximum heap divided by
 * that cost factor. A request reserves its declared length before it is read (or, without one, each
 * chunk as it arrives); when the budget stays full for {@code cds.overload-wait} it gets 503 with
 * {@code Retry-After}, a defined answer instead of an OutOfMemoryError. The size limit is {@code
 * cds.max-request-bytes}, lowered to the budget when the heap is too small for it.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class RequestLimits extends OncePerRequestFilter {
  static final String REQUEST_ID = "requestId";
  private final long maxBytes;
  private final BodyBudget budget;
  private final CdsMetrics metrics;

  RequestLimits(CdsProperties properties, BodyBudget budget, CdsMetrics metrics) {
    this.budget = budget;
    this.metrics = metrics;
    this.maxBytes = Math.min(properties.maxRequestBytes().toBytes(), budget.bytes());
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
    BodyBudget.Reservation reservation = budget.reserve();
    try {
      long declared = request.getContentLengthLong();
      if (declared > maxBytes) {
        tooLarge(response);
        return;
      }
      if (declared > 0 && !reservation.add(declared)) {
        overloaded(response);
        return;
      }
      chain.doFilter(new Limited(request, maxBytes, declared > 0 ? null : reservation), response);
    } catch (BodyTooLargeException e) {
      if (!response.isCommitted()) {
        response.reset();
        tooLarge(response);
      }
    } catch (OverloadedException e) {
      if (!response.isCommitted()) {
        response.reset();
        overloaded(response);
      }
    } finally {
      reservation.close();
      MDC.remove(REQUEST_ID);
    }
  }

  private void overloaded(HttpServletResponse response) throws IOException {
    metrics.overloaded();
    logger.warn(
        "request refused: 503 request bodies in progress at the memory budget of "
            + budget.bytes()
            + " bytes");
    response.setHeader("Retry-After", "1");
    new ErrorBody(
            "overloaded",
            HttpServletResponse.SC_SERVICE_UNAVAILABLE,
            "the service is handling as much request data as its memory allows; retry shortly")
        .send(response);
  }

  private void tooLarge(HttpServletResponse response) throws IOException {
    logger.info("request refused: 413 body over " + maxBytes + " bytes");
    new ErrorBody(
            "payload_too_large",
            HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
            "the request body exceeds " + maxBytes + " bytes")
        .send(response);
  }

  /** Thrown while reading a body of undeclared length when the budget stays full. */
  static final class OverloadedException extends IOException {
    OverloadedException() {
      super("memory budget for request bodies exhausted");
    }
  }

  /** Thrown while reading a body that turns out larger than the limit. */
  static final class BodyTooLargeException extends IOException {
    BodyTooLargeException() {
      super("request body too large");
    }
  }

  private static final class Limited extends HttpServletRequestWrapper {
    private final long max;
    private final BodyBudget.Reservation reservation;
    private ServletInputStream stream;

    /**
     * @param reservation reserve each chunk as it is read (a body without a declared length), or
     *     null when the whole declared length is reserved already
     */
    Limited(HttpServletRequest request, long max, BodyBudget.Reservation reservation) {
      super(request);
      this.max = max;
      this.reservation = reservation;
    }

    private void count(long total, int n) throws IOException {
      if (total > max) {
        throw new BodyTooLargeException();
      }
      if (reservation != null && !reservation.add(n)) {
        throw new OverloadedException();
      }
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
                if (b >= 0) {
                  count(++read, 1);
                }
                return b;
              }

              @Override
              public int read(byte[] buffer, int off, int len) throws IOException {
                int n = in.read(buffer, off, len);
                if (n > 0) {
                  count(read += n, n);
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
