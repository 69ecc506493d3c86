package org.backhippain.cds.service;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * An EHR FHIR server that streams its answers (WireMock would hold a body in memory): the patient
 * of {@link FhirStubs#lowBackPainPatient} for every key, except paths set to a huge searchset (with
 * or without a declared length), an endless one, or one that drips a byte a second. It records how
 * many bytes it wrote and how many answers ended because the client closed the connection.
 */
public final class StreamingFhirServer implements AutoCloseable {
  private static final byte[] ENTRY =
      ("{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\","
              + "\"code\":{\"text\":\"padding padding padding padding padding\"}}},")
          .getBytes(StandardCharsets.US_ASCII);
  private static final byte[] OPEN =
      "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":["
          .getBytes(StandardCharsets.US_ASCII);

  private final HttpServer server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final Map<String, Mode> modes = new ConcurrentHashMap<>();
  private final Map<String, byte[]> normal;
  public final AtomicLong bytesWritten = new AtomicLong();
  public final AtomicInteger requests = new AtomicInteger();
  public final AtomicInteger disconnects = new AtomicInteger();
  public final AtomicInteger streaming = new AtomicInteger();
  public final AtomicInteger streams = new AtomicInteger();

  /** How a path answers. */
  public sealed interface Mode {}

  /** A searchset of {@code bytes} bytes, declaring its length or chunked. */
  public record Huge(long bytes, boolean declared) implements Mode {}

  /** A searchset that never ends, written as fast as the client reads. */
  public record Endless() implements Mode {}

  /** A searchset that starts, then sends one byte a second for {@code seconds}. */
  public record Drip(int seconds) implements Mode {}

  public StreamingFhirServer(String patientId) {
    normal = FhirStubs.answers(patientId, "2026-05-20");
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/fhir/", this::answer);
    server.setExecutor(threads);
    server.start();
  }

  /** {@code http://localhost:<port>/fhir}. */
  public String base() {
    return "http://localhost:" + server.getAddress().getPort() + "/fhir";
  }

  public void set(String resourceType, Mode mode) {
    modes.put(resourceType, mode);
  }

  public void reset() {
    modes.clear();
    bytesWritten.set(0);
    requests.set(0);
    disconnects.set(0);
    streams.set(0);
  }

  static byte[] json(Resource resource) {
    return FhirStubs.FHIR
        .newJsonParser()
        .encodeResourceToString(resource)
        .getBytes(StandardCharsets.UTF_8);
  }

  private void answer(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    String[] path = exchange.getRequestURI().getPath().split("/");
    String type = path.length > 2 ? path[2] : "";
    Mode mode = modes.get(type);
    try (exchange) {
      exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
      if (mode == null) {
        byte[] body =
            normal.getOrDefault(type, json(new Bundle().setType(Bundle.BundleType.SEARCHSET)));
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        return;
      }
      streaming.incrementAndGet();
      streams.incrementAndGet();
      try {
        stream(exchange, mode);
      } catch (IOException closedByClient) {
        disconnects.incrementAndGet();
      } finally {
        streaming.decrementAndGet();
      }
    }
  }

  private void stream(HttpExchange exchange, Mode mode) throws IOException {
    if (mode instanceof Huge huge) {
      long entries = (huge.bytes() - OPEN.length - 4) / ENTRY.length;
      long length = OPEN.length + entries * ENTRY.length + 4;
      exchange.sendResponseHeaders(200, huge.declared() ? length : 0);
      OutputStream out = exchange.getResponseBody();
      write(out, OPEN);
      for (long i = 0; i < entries; i++) {
        write(out, ENTRY);
      }
      write(out, "{}]}".getBytes(StandardCharsets.US_ASCII));
      out.close();
    } else if (mode instanceof Endless) {
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      write(out, OPEN);
      while (true) {
        write(out, ENTRY);
      }
    } else if (mode instanceof Drip drip) {
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      write(out, OPEN);
      out.flush();
      for (int i = 0; i < drip.seconds(); i++) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        write(out, new byte[] {' '});
        out.flush();
      }
    }
  }

  private void write(OutputStream out, byte[] bytes) throws IOException {
    out.write(bytes);
    bytesWritten.addAndGet(bytes.length);
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
