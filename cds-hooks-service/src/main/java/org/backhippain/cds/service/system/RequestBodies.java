package org.backhippain.cds.service.system;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.backhippain.cds.fhir.MemoryBudget;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request bodies, read only once Spring Security has let the request through (this filter runs
 * after it), so an unauthenticated caller never holds memory or a thread with a body.
 *
 * <p>A body is read without blocking a thread (servlet non-blocking I/O) and must arrive completely
 * within {@code cds.body-read-deadline}, else 408; then the request is dispatched again with the
 * body in memory. Bodies over the size limit are refused with 413, by their declared length before
 * anything is read or as they arrive. A memory bulkhead keeps large requests from exhausting the
 * heap: a hook body costs several times its size once parsed (JSON tree, HAPI resources, CQL
 * values), so the bodies being handled at once may add up to at most {@link MemoryBudget#bytes()}.
 * A request reserves its declared length before it is read (or, without one, each chunk as it
 * arrives) and keeps it until its answer is sent; when the budget stays full for {@code
 * cds.overload-wait} it gets 503 with {@code Retry-After}. Every refusal made before the body was
 * read closes the connection ({@link UnreadBodies}). Form bodies are left to Tomcat's own limits
 * (only the demo FHIR server takes them).
 */
class RequestBodies extends HttpFilter {
  private static final Logger log = LoggerFactory.getLogger(RequestBodies.class);
  private static final String BODY = RequestBodies.class.getName() + ".body";
  private static final int CHUNK = 8192;
  private final long maxBytes;
  private final long deadlineMillis;
  private final MemoryBudget budget;
  private final CdsMetrics metrics;

  RequestBodies(CdsProperties properties, MemoryBudget budget, CdsMetrics metrics) {
    this.budget = budget;
    this.metrics = metrics;
    this.maxBytes = Math.min(properties.maxRequestBytes().toBytes(), budget.bytes());
    this.deadlineMillis = properties.bodyReadDeadline().toMillis();
  }

  @Override
  protected void doFilter(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (request.getDispatcherType() == DispatcherType.ASYNC
        && request.getAttribute(BODY) instanceof byte[] body) {
      chain.doFilter(new Buffered(request, body), response);
      return;
    }
    if (request.getDispatcherType() != DispatcherType.REQUEST || !hasBody(request)) {
      chain.doFilter(request, response);
      return;
    }
    long declared = request.getContentLengthLong();
    if (declared > maxBytes) {
      tooLarge(response);
      return;
    }
    MemoryBudget.Reservation reservation = budget.reserve();
    if (declared > 0 && !reservation.add(declared)) {
      reservation.close();
      overloaded(response);
      return;
    }
    AsyncContext async = request.startAsync();
    async.setTimeout(deadlineMillis);
    Reading reading = new Reading(request, async, reservation, declared);
    async.addListener(reading);
    request.getInputStream().setReadListener(reading);
  }

  private static boolean hasBody(HttpServletRequest request) {
    if (request.getContentLengthLong() <= 0 && request.getHeader("Transfer-Encoding") == null) {
      return false;
    }
    String type = request.getContentType();
    return type == null
        || !(type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/"));
  }

  private void overloaded(HttpServletResponse response) throws IOException {
    metrics.overloaded();
    log.warn(
        "request refused: 503 request bodies in progress at the memory budget of {} bytes",
        budget.bytes());
    response.setHeader("Retry-After", "1");
    new ErrorBody(
            "overloaded",
            HttpServletResponse.SC_SERVICE_UNAVAILABLE,
            "the service is handling as much request data as its memory allows; retry shortly")
        .send(response);
  }

  private void tooLarge(HttpServletResponse response) throws IOException {
    log.info("request refused: 413 body over {} bytes", maxBytes);
    metrics.error("payload_too_large");
    new ErrorBody(
            "payload_too_large",
            HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
            "the request body exceeds " + maxBytes + " bytes")
        .send(response);
  }

  private void timedOut(HttpServletResponse response, long received) throws IOException {
    log.info(
        "request refused: 408 body incomplete after {} ms ({} bytes received)",
        deadlineMillis,
        received);
    metrics.error("request_timeout");
    new ErrorBody(
            "request_timeout",
            HttpServletResponse.SC_REQUEST_TIMEOUT,
            "the request body did not arrive within "
                + Duration.ofMillis(deadlineMillis).toSeconds()
                + " s")
        .send(response);
  }

  /** Reads one body as it arrives, then dispatches the request again; or refuses it. */
  private final class Reading implements ReadListener, AsyncListener {
    private final HttpServletRequest request;
    private final AsyncContext async;
    private final MemoryBudget.Reservation reservation;
    private final boolean reservePerChunk;
    private final ByteArrayOutputStream body;
    private final byte[] chunk = new byte[CHUNK];
    private boolean finished;

    Reading(
        HttpServletRequest request,
        AsyncContext async,
        MemoryBudget.Reservation reservation,
        long declared) {
      this.request = request;
      this.async = async;
      this.reservation = reservation;
      this.reservePerChunk = declared <= 0;
      this.body = new ByteArrayOutputStream((int) Math.max(CHUNK, Math.min(declared, 1 << 20)));
    }

    private HttpServletResponse response() {
      return (HttpServletResponse) async.getResponse();
    }

    @Override
    public synchronized void onDataAvailable() throws IOException {
      ServletInputStream in = request.getInputStream();
      while (!finished && in.isReady()) {
        int n = in.read(chunk);
        if (n < 0) {
          return;
        }
        if (body.size() + (long) n > maxBytes) {
          refuse(() -> tooLarge(response()));
          return;
        }
        if (reservePerChunk && !reservation.add(n)) {
          refuse(() -> overloaded(response()));
          return;
        }
        body.write(chunk, 0, n);
      }
    }

    @Override
    public synchronized void onAllDataRead() {
      if (!finished) {
        finished = true;
        request.setAttribute(BODY, body.toByteArray());
        async.dispatch();
      }
    }

    @Override
    public synchronized void onError(Throwable failure) {
      if (!finished) {
        finished = true;
        log.info("request body not read: {}", failure.getClass().getSimpleName());
        async.complete();
      }
    }

    @Override
    public synchronized void onTimeout(AsyncEvent event) throws IOException {
      refuse(() -> timedOut(response(), body.size()));
    }

    @Override
    public void onError(AsyncEvent event) {
      onError(event.getThrowable());
    }

    @Override
    public void onComplete(AsyncEvent event) {
      reservation.close();
    }

    @Override
    public void onStartAsync(AsyncEvent event) {}

    private void refuse(Answer answer) throws IOException {
      if (finished) {
        return;
      }
      finished = true;
      try {
        // Tomcat does not swallow the rest of a body read without blocking: it just closes.
        response().setHeader("Connection", "close");
        answer.send();
      } finally {
        async.complete();
      }
    }
  }

  private interface Answer {
    void send() throws IOException;
  }

  /** The request with its body, read already, in memory. */
  private static final class Buffered extends HttpServletRequestWrapper {
    private final byte[] body;

    Buffered(HttpServletRequest request, byte[] body) {
      super(request);
      this.body = body;
    }

    @Override
    public int getContentLength() {
      return body.length;
    }

    @Override
    public long getContentLengthLong() {
      return body.length;
    }

    @Override
    public ServletInputStream getInputStream() {
      ByteArrayInputStream in = new ByteArrayInputStream(body);
      return new ServletInputStream() {
        @Override
        public int read() {
          return in.read();
        }

        @Override
        public int read(byte[] buffer, int off, int len) {
          return in.read(buffer, off, len);
        }

        @Override
        public boolean isFinished() {
          return in.available() == 0;
        }

        @Override
        public boolean isReady() {
          return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
          throw new UnsupportedOperationException("the body has been read already");
        }
      };
    }

    @Override
    public BufferedReader getReader() {
      String encoding = getCharacterEncoding();
      Charset charset = encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
      return new BufferedReader(new InputStreamReader(getInputStream(), charset));
    }
  }
}
