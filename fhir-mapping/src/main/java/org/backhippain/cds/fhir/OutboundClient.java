package org.backhippain.cds.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.apache.ApacheRestfulClientFactory;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.http.Header;
import org.apache.http.HttpEntity;
import org.apache.http.HttpHeaders;
import org.apache.http.HttpHost;
import org.apache.http.HttpRequest;
import org.apache.http.HttpRequestInterceptor;
import org.apache.http.HttpResponse;
import org.apache.http.HttpResponseInterceptor;
import org.apache.http.ProtocolException;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpUriRequest;
import org.apache.http.client.protocol.HttpClientContext;
import org.apache.http.config.Registry;
import org.apache.http.config.RegistryBuilder;
import org.apache.http.config.SocketConfig;
import org.apache.http.conn.DnsResolver;
import org.apache.http.conn.EofSensorInputStream;
import org.apache.http.conn.ManagedHttpClientConnection;
import org.apache.http.conn.socket.ConnectionSocketFactory;
import org.apache.http.conn.socket.LayeredConnectionSocketFactory;
import org.apache.http.conn.socket.PlainConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.entity.HttpEntityWrapper;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.DefaultRedirectStrategy;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.apache.http.protocol.HttpContext;
import org.apache.http.protocol.HttpCoreContext;
import org.backhippain.cds.fhir.FetchFailure.Described;
import org.backhippain.cds.fhir.FetchFailure.Overrun;
import org.backhippain.cds.fhir.FhirServers.FhirServer;

/**
 * The outbound boundary: the one HTTP client (Apache HttpClient 4, which HAPI's generic client runs
 * on) through which the service reads EHR FHIR servers, configured so that its own policies hold
 * every exchange:
 *
 * <ul>
 *   <li>where it connects: the socket factories check the address actually connected (after DNS)
 *       against {@link AddressRules} for the call's FHIR server, and refuse any other host;
 *   <li>DNS through an injectable {@link DnsResolver}, each lookup within the connect timeout;
 *   <li>time: connect, connection-request and socket timeouts from the hook's remaining budget, and
 *       every exchange of a hook aborted (socket closed) when the budget is spent;
 *   <li>redirects: same origin only, at most 3 (the token kept); another origin is not followed;
 *   <li>the token: added here, only for the call's origin, not after it expired, over plain http
 *       only to an explicitly listed origin or loopback;
 *   <li>bytes: every response body is counted on the raw stream before HAPI reads it; over the
 *       per-response or per-hook cap, or without room in the shared {@link MemoryBudget}, the
 *       connection is aborted — nothing more is read. A body not read to its end is never drained
 *       beyond a few kilobytes.
 *   <li>pool: {@code perOriginConcurrency} connections per origin, {@code maxConnections} in all;
 *       no retries, no cookies, no content compression (bytes counted are bytes parsed).
 * </ul>
 */
public final class OutboundClient implements AutoCloseable {
  private static final String EXCHANGE = OutboundClient.class.getName() + ".exchange";
  private static final int MAX_REDIRECTS = 3;
  private static final int DRAIN_BYTES = 16 * 1024;
  private static final int DRAIN_MILLIS = 50;

  private final FetchSettings settings;
  private final AddressRules rules;
  private final ExecutorService dns;
  private final PoolingHttpClientConnectionManager pool;
  private final CloseableHttpClient http;
  private final Router router = new Router();

  /** The exchange whose HAPI work runs on this thread (one per thread, whichever client). */
  private static final ThreadLocal<Exchange> BOUND = new ThreadLocal<>();

  public OutboundClient(FetchSettings settings, DnsResolver resolver, AddressRules rules) {
    this.settings = settings;
    this.rules = rules;
    AtomicInteger threads = new AtomicInteger();
    this.dns =
        Executors.newFixedThreadPool(
            4,
            runnable -> {
              Thread thread = new Thread(runnable, "fhir-dns-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    Registry<ConnectionSocketFactory> sockets =
        RegistryBuilder.<ConnectionSocketFactory>create()
            .register("http", new CheckedSockets(PlainConnectionSocketFactory.getSocketFactory()))
            .register(
                "https", new CheckedSockets(SSLConnectionSocketFactory.getSystemSocketFactory()))
            .build();
    this.pool =
        new PoolingHttpClientConnectionManager(
            sockets, null, null, bounded(resolver), 60, TimeUnit.SECONDS);
    pool.setMaxTotal(settings.maxConnections());
    pool.setDefaultMaxPerRoute(settings.perOriginConcurrency());
    pool.setValidateAfterInactivity(2_000);
    pool.setDefaultSocketConfig(
        SocketConfig.custom()
            .setTcpNoDelay(true)
            .setSoTimeout((int) settings.budget().toMillis())
            .build());
    this.http =
        HttpClients.custom()
            .setConnectionManager(pool)
            .setRedirectStrategy(new SameOriginRedirects())
            .disableAutomaticRetries()
            .disableCookieManagement()
            .disableAuthCaching()
            .disableContentCompression()
            .setUserAgent("back-hip-pain-cds")
            .addInterceptorLast((HttpRequestInterceptor) this::authorize)
            .addInterceptorLast((HttpResponseInterceptor) this::bound)
            .evictIdleConnections(30, TimeUnit.SECONDS)
            .build();
  }

  /**
   * Makes this client the one every HAPI generic client of {@code fhir} runs on (HAPI's requests
   * take their HTTP client from the context's client factory): a request is sent only while a fetch
   * thread has bound its {@link Exchange}, and through that exchange's policies; any other use is
   * refused.
   */
  public void install(FhirContext fhir) {
    Router router = this.router;
    ApacheRestfulClientFactory factory =
        new ApacheRestfulClientFactory(fhir) {
          @Override
          public org.apache.http.client.HttpClient getNativeHttpClient() {
            return router;
          }

          @Override
          protected void resetHttpClient() {
            // HAPI's timeout and pool setters would build a client of its own: there is none.
          }
        };
    factory.setServerValidationMode(ServerValidationModeEnum.NEVER);
    fhir.setRestfulClientFactory(factory);
  }

  /** True when {@code fhir}'s HAPI clients run on this client ({@link #install}). */
  public boolean installedIn(FhirContext fhir) {
    return fhir.getRestfulClientFactory() instanceof ApacheRestfulClientFactory factory
        && factory.getNativeHttpClient() == router;
  }

  /** The reads of one hook call from one FHIR server. */
  Call call(
      FhirServer server, AccessToken token, long deadlineNanos, MemoryBudget.Reservation memory) {
    return new Call(server, token, deadlineNanos, memory);
  }

  @Override
  public void close() throws IOException {
    http.close();
    dns.shutdownNow();
  }

  /** Each lookup of the injected resolver within the connect timeout (the JDK's has none). */
  private DnsResolver bounded(DnsResolver resolver) {
    long timeoutMillis = settings.connectTimeout().toMillis();
    return host -> {
      Future<InetAddress[]> lookup = dns.submit(() -> resolver.resolve(host));
      try {
        return lookup.get(timeoutMillis, TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        lookup.cancel(true);
        throw new FetchFailure.DnsTimeout(host);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UnknownHostException unknown) {
          throw unknown;
        }
        throw new UnknownHostException(host);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FetchFailure.DnsTimeout(host);
      }
    };
  }

  private static Exchange exchange(HttpContext context) {
    return context == null ? null : (Exchange) context.getAttribute(EXCHANGE);
  }

  /** Sets the Authorization header on each request (and redirect) for the call's origin only. */
  private void authorize(HttpRequest request, HttpContext context) throws IOException {
    Exchange exchange = exchange(context);
    if (exchange == null) {
      throw new Overrun(FetchFailure.NOT_ALLOWED, "no FHIR server exchange");
    }
    request.removeHeaders(HttpHeaders.AUTHORIZATION);
    // HAPI asks for gzip; bodies are read as sent, so that the bytes counted are the bytes parsed.
    request.removeHeaders(HttpHeaders.ACCEPT_ENCODING);
    HttpHost target = (HttpHost) context.getAttribute(HttpCoreContext.HTTP_TARGET_HOST);
    FhirServer server = exchange.call.server;
    if (target == null
        || !server.sameOrigin(target.getSchemeName(), target.getHostName(), target.getPort())) {
      throw exchange.overrun(FetchFailure.NOT_ALLOWED, "FHIR server not allowed: another origin");
    }
    AccessToken token = exchange.call.token;
    if (token == null) {
      return;
    }
    if (token.expired()) {
      throw exchange.overrun(FetchFailure.TOKEN_EXPIRED, FetchFailure.TOKEN_EXPIRED.words());
    }
    if (!server.bearerAllowed()) {
      throw exchange.overrun(FetchFailure.TOKEN_CLEARTEXT, FetchFailure.TOKEN_CLEARTEXT.words());
    }
    request.addHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token.value());
  }

  /** Puts every response body behind the byte counter, before anything reads it. */
  private void bound(HttpResponse response, HttpContext context) throws IOException {
    Exchange exchange = exchange(context);
    HttpEntity entity = response.getEntity();
    if (exchange == null || entity == null) {
      return;
    }
    if (entity.getContentLength() > settings.maxResponseBytes()) {
      exchange.abort();
      throw exchange.overrun(FetchFailure.TOO_LARGE, tooLarge());
    }
    ManagedHttpClientConnection connection =
        HttpClientContext.adapt(context).getConnection(ManagedHttpClientConnection.class);
    response.setEntity(new Bounded(entity, exchange, connection));
  }

  private String tooLarge() {
    return "response too large (over " + settings.maxResponseBytes() + " bytes)";
  }

  /** Same-origin redirects are followed (HttpClient copies the headers); others are not. */
  private static final class SameOriginRedirects extends DefaultRedirectStrategy {
    @Override
    public boolean isRedirected(HttpRequest request, HttpResponse response, HttpContext context)
        throws ProtocolException {
      if (!super.isRedirected(request, response, context)) {
        return false;
      }
      Exchange exchange = exchange(context);
      Header location = response.getFirstHeader("location");
      if (exchange == null || location == null) {
        return location != null;
      }
      URI uri = createLocationURI(location.getValue());
      HttpHost target = HttpClientContext.adapt(context).getTargetHost();
      boolean same =
          uri.getRawAuthority() == null
              || exchange.call.server.sameOrigin(
                  uri.getScheme() != null ? uri.getScheme() : target.getSchemeName(),
                  uri.getHost(),
                  uri.getPort());
      if (!same) {
        exchange.fail(
            FetchFailure.REDIRECT_OTHER_ORIGIN, FetchFailure.REDIRECT_OTHER_ORIGIN.words());
      }
      return same;
    }
  }

  /** Connects only to the call's host, at an address the address rules allow for it. */
  private final class CheckedSockets implements LayeredConnectionSocketFactory {
    private final ConnectionSocketFactory sockets;

    CheckedSockets(ConnectionSocketFactory sockets) {
      this.sockets = sockets;
    }

    @Override
    public Socket createSocket(HttpContext context) throws IOException {
      return sockets.createSocket(context);
    }

    @Override
    public Socket connectSocket(
        int connectTimeout,
        Socket socket,
        HttpHost host,
        InetSocketAddress remoteAddress,
        InetSocketAddress localAddress,
        HttpContext context)
        throws IOException {
      Exchange exchange = exchange(context);
      if (exchange == null) {
        socket.close();
        throw new Overrun(FetchFailure.NOT_ALLOWED, "no FHIR server exchange");
      }
      FhirServer server = exchange.call.server;
      String refusal =
          server.sameOrigin(host.getSchemeName(), host.getHostName(), host.getPort())
              ? rules.refusal(server, remoteAddress.getAddress())
              : "another origin";
      if (refusal != null) {
        socket.close();
        throw exchange.overrun(FetchFailure.NOT_ALLOWED, "FHIR server not allowed: " + refusal);
      }
      return sockets.connectSocket(
          connectTimeout, socket, host, remoteAddress, localAddress, context);
    }

    @Override
    public Socket createLayeredSocket(Socket socket, String target, int port, HttpContext context)
        throws IOException {
      if (sockets instanceof LayeredConnectionSocketFactory layered) {
        return layered.createLayeredSocket(socket, target, port, context);
      }
      throw new Overrun(FetchFailure.NOT_ALLOWED, "no tunnelling");
    }
  }

  /** One hook's reads from its FHIR server: shared deadline, byte count and memory share. */
  final class Call {
    final FhirServer server;
    final AccessToken token;
    final long deadlineNanos;
    private final MemoryBudget.Reservation memory;
    private final AtomicLong bytes = new AtomicLong();
    private final Set<Exchange> exchanges = ConcurrentHashMap.newKeySet();

    private Call(
        FhirServer server, AccessToken token, long deadlineNanos, MemoryBudget.Reservation memory) {
      this.server = server;
      this.token = token;
      this.deadlineNanos = deadlineNanos;
      this.memory = memory;
    }

    /** A new exchange (one prefetch key: its request, redirects and pages). */
    Exchange exchange(FhirContext fhir) {
      Exchange exchange = new Exchange(this, fhir);
      exchanges.add(exchange);
      return exchange;
    }

    long remainingNanos() {
      return deadlineNanos - System.nanoTime();
    }

    /** Counts bytes read for this hook; throws (after aborting) past a cap or the memory budget. */
    void charge(Exchange exchange, long n) throws Overrun {
      long total = bytes.addAndGet(n);
      if (total > settings.maxHookBytes()) {
        exchange.abort();
        throw exchange.overrun(
            FetchFailure.TOO_LARGE,
            "too large: over " + settings.maxHookBytes() + " bytes for one hook");
      }
      if (memory != null && !memory.add(n, Math.max(0, remainingNanos()))) {
        exchange.abort();
        throw exchange.overrun(FetchFailure.MEMORY_FULL, FetchFailure.MEMORY_FULL.words());
      }
    }
  }

  /**
   * One prefetch key's exchange with the FHIR server (its requests, redirects and pages): each
   * request gets a context naming this exchange (which the policies above read) and timeouts from
   * the remaining budget; {@link #abort()} closes whatever connection it is using.
   */
  final class Exchange {
    final Call call;
    private final FhirContext fhir;
    private volatile HttpUriRequest current;
    private volatile boolean aborted;
    private volatile Described failure;

    private Exchange(Call call, FhirContext fhir) {
      this.call = call;
      this.fhir = fhir;
    }

    /**
     * Runs HAPI generic-client work for the call's FHIR server on this thread, its requests going
     * through this exchange.
     */
    <T> T run(java.util.function.Function<IGenericClient, T> work) {
      BOUND.set(this);
      try {
        return work.apply(fhir.newRestfulGenericClient(call.server.base()));
      } finally {
        BOUND.remove();
      }
    }

    /** The failure the policies recorded, if any (it outranks what HAPI made of it). */
    Described failure() {
      return failure;
    }

    void fail(FetchFailure kind, String words) {
      if (failure == null) {
        failure = new Described(kind, words);
      }
    }

    Overrun overrun(FetchFailure kind, String words) {
      fail(kind, words);
      return new Overrun(kind, words);
    }

    /** Aborts the request in flight (closing its connection) and any later one. */
    void abort() {
      aborted = true;
      HttpUriRequest request = current;
      if (request != null) {
        request.abort();
      }
    }

    private CloseableHttpResponse execute(HttpHost target, HttpRequest request) throws IOException {
      if (!(request instanceof HttpUriRequest uriRequest)) {
        throw new Overrun(FetchFailure.FAILED, "unsupported request");
      }
      current = uriRequest;
      long remainingMillis = TimeUnit.NANOSECONDS.toMillis(call.remainingNanos());
      if (aborted || remainingMillis <= 0) {
        uriRequest.abort();
        throw overrun(FetchFailure.TIMEOUT, "timeout after budget");
      }
      int remaining = (int) Math.min(Integer.MAX_VALUE, remainingMillis);
      HttpClientContext context = HttpClientContext.create();
      context.setAttribute(EXCHANGE, this);
      context.setRequestConfig(
          RequestConfig.custom()
              .setConnectTimeout((int) Math.min(settings.connectTimeout().toMillis(), remaining))
              .setConnectionRequestTimeout(remaining)
              .setSocketTimeout(remaining)
              .setRedirectsEnabled(true)
              .setMaxRedirects(MAX_REDIRECTS)
              .setCircularRedirectsAllowed(false)
              .setAuthenticationEnabled(false)
              .setContentCompressionEnabled(false)
              .build());
      return http.execute(target, request, context);
    }
  }

  /** The HTTP client HAPI sees: sends through the exchange bound to this thread, or refuses. */
  private final class Router extends CloseableHttpClient {
    @Override
    protected CloseableHttpResponse doExecute(
        HttpHost target, HttpRequest request, HttpContext ignored) throws IOException {
      Exchange exchange = BOUND.get();
      if (exchange == null) {
        throw new Overrun(FetchFailure.NOT_ALLOWED, "no FHIR server exchange on this thread");
      }
      return exchange.execute(target, request);
    }

    @Override
    public void close() {}

    @Override
    @Deprecated
    public org.apache.http.params.HttpParams getParams() {
      return http.getParams();
    }

    @Override
    @Deprecated
    public org.apache.http.conn.ClientConnectionManager getConnectionManager() {
      return http.getConnectionManager();
    }
  }

  /** A response body behind the byte counter. */
  private final class Bounded extends HttpEntityWrapper {
    private final Exchange exchange;
    private final ManagedHttpClientConnection connection;
    private Counting content;

    Bounded(HttpEntity entity, Exchange exchange, ManagedHttpClientConnection connection) {
      super(entity);
      this.exchange = exchange;
      this.connection = connection;
    }

    @Override
    public synchronized InputStream getContent() throws IOException {
      if (content == null) {
        content = new Counting(super.getContent(), getContentLength(), exchange, connection);
      }
      return content;
    }

    @Override
    public boolean isRepeatable() {
      return false;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      try (InputStream in = getContent()) {
        in.transferTo(out);
      }
    }
  }

  /**
   * Counts the raw body as it is read; past a limit it aborts the connection and fails the read.
   * Closed before its end, it reads at most a few kilobytes more (so a complete response keeps its
   * connection alive), then aborts.
   */
  private final class Counting extends FilterInputStream {
    private final long declared;
    private final Exchange exchange;
    private final ManagedHttpClientConnection connection;
    private long count;
    private boolean eof;
    private boolean closed;

    Counting(
        InputStream raw, long declared, Exchange exchange, ManagedHttpClientConnection connection) {
      super(raw);
      this.declared = declared;
      this.exchange = exchange;
      this.connection = connection;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b < 0) {
        eof = true;
      } else {
        charge(1);
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int off, int len) throws IOException {
      int n = in.read(buffer, off, len);
      if (n < 0) {
        eof = true;
      } else {
        charge(n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 8192)];
      int read = buffer.length == 0 ? 0 : read(buffer, 0, buffer.length);
      return Math.max(read, 0);
    }

    private void charge(int n) throws Overrun {
      count += n;
      if (count > settings.maxResponseBytes()) {
        abortConnection();
        throw exchange.overrun(FetchFailure.TOO_LARGE, tooLarge());
      }
      try {
        exchange.call.charge(exchange, n);
      } catch (Overrun overrun) {
        abortConnection();
        throw overrun;
      }
    }

    private boolean complete() {
      return eof || (declared >= 0 && count >= declared);
    }

    private void abortConnection() {
      try {
        if (in instanceof EofSensorInputStream sensor) {
          sensor.abortConnection();
        } else {
          exchange.abort();
        }
      } catch (IOException e) {
        exchange.abort();
      }
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (!complete() && exchange.failure() == null) {
        drainBriefly();
      }
      if (complete()) {
        in.close();
      } else {
        abortConnection();
      }
    }

    /** Reads what is left if it is little and arrives at once (a chunked body's last chunk). */
    private void drainBriefly() {
      if (connection == null) {
        return;
      }
      try {
        int timeout = connection.getSocketTimeout();
        connection.setSocketTimeout(DRAIN_MILLIS);
        try {
          byte[] buffer = new byte[4096];
          long drained = 0;
          while (drained <= DRAIN_BYTES && !eof) {
            int n = in.read(buffer);
            if (n < 0) {
              eof = true;
            } else {
              drained += n;
            }
          }
        } finally {
          connection.setSocketTimeout(timeout);
        }
      } catch (IOException | RuntimeException e) {
        // not drained: the connection is aborted instead
      }
    }
  }
}
