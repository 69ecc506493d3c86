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
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.backhippain.cds.fhir.MemoryBudget;
import org.backhippain.cds.service.security.OpenPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;

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
 * read closes the connection ({@link UnreadBodies}). Form bodies posted to the demo FHIR server are
 * left to Tomcat's own limits (its servlet reads them).
 *
 * <p>Once a body has arrived, its media type is checked: multipart (no endpoint takes it) and JSON
 * in any charset but UTF-8 (RFC 8259) get 415; a JSON body must be valid UTF-8 — no overlong forms,
 * surrogates or stray bytes, which Jackson would let through or replace — else 400. (Read first, so
 * that the answer is not lost to a connection reset over an unread body.)
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

  /**
   * Whether this filter reads the body: every body but one sent to a path open to anyone that takes
   * none ({@link OpenPaths#WITHOUT_BODY}: never read, so an unauthenticated caller holds no memory
   * or wait with it; the connection is closed after the answer, {@link UnreadBodies}) and a form
   * posted to the demo FHIR server (its servlet parses the form itself). A form posted anywhere
   * else is read like any body and then refused (415), so the connection stays usable.
   */
  private static boolean hasBody(HttpServletRequest request) {
    if (request.getContentLengthLong() <= 0 && request.getHeader("Transfer-Encoding") == null) {
      return false;
    }
    if (OpenPaths.WITHOUT_BODY.matches(request)) {
      return false;
    }
    String type = request.getContentType();
    return type == null
        || !type.startsWith("application/x-www-form-urlencoded")
        || !request.getServletPath().startsWith("/fhir");
  }

  /** Why this media type is refused; null when it is not. */
  static String unsupportedMediaType(String contentType) {
    if (contentType == null) {
      return null;
    }
    MediaType type;
    try {
      type = MediaType.parseMediaType(contentType);
    } catch (InvalidMediaTypeException e) {
      return "the Content-Type is not a valid media type; send application/json";
    }
    if ("multipart".equalsIgnoreCase(type.getType())) {
      return "multipart bodies are not accepted; send application/json";
    }
    if (isJson(type)
        && type.getParameter("charset") != null
        && !"utf-8".equalsIgnoreCase(unquoted(type.getParameter("charset")))) {
      return "JSON must be encoded in UTF-8 (RFC 8259); send application/json or"
          + " application/json;charset=UTF-8";
    }
    return null;
  }

  /** 415 for a media type no endpoint takes, 400 for JSON that is not UTF-8; else null. */
  static ErrorBody refusal(String contentType, byte[] body) {
    String unsupported = unsupportedMediaType(contentType);
    if (unsupported != null) {
      return new ErrorBody("unsupported_media_type", 415, unsupported);
    }
    MediaType type = contentType == null ? null : MediaType.parseMediaType(contentType);
    int invalid = type != null && isJson(type) ? invalidUtf8At(body) : -1;
    if (invalid >= 0) {
      return new ErrorBody(
          "invalid_json", 400, "the request body is not valid UTF-8 (byte " + invalid + ")");
    }
    return null;
  }

  private static boolean isJson(MediaType type) {
    return "application".equalsIgnoreCase(type.getType())
        && ("json".equalsIgnoreCase(type.getSubtype())
            || type.getSubtype().toLowerCase(java.util.Locale.ROOT).endsWith("+json"));
  }

  private static String unquoted(String value) {
    return value.length() > 1 && value.startsWith("\"") && value.endsWith("\"")
        ? value.substring(1, value.length() - 1)
        : value;
  }

  /** The offset of the first byte that is not well-formed UTF-8; -1 when all are. */
  static int invalidUtf8At(byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(CHUNK);
    while (true) {
      CoderResult result = decoder.decode(in, out, true);
      if (result.isError()) {
        return in.position();
      }
      if (result.isUnderflow()) {
        return -1;
      }
      out.clear();
    }
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
    public synchronized void onAllDataRead() throws IOException {
      if (finished) {
        return;
      }
      byte[] bytes = body.toByteArray();
      ErrorBody refusal = refusal(request.getContentType(), bytes);
      if (refusal != null) {
        finished = true;
        try {
          log.info("request refused: {} {}", refusal.status(), refusal.message());
          metrics.error(refusal.error());
          refusal.send(response());
        } finally {
          async.complete();
        }
        return;
      }
      finished = true;
      request.setAttribute(BODY, bytes);
      async.dispatch();
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
