package org.backhippain.cds.service.hooks;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.backhippain.cds.fhir.PrefetchTemplate;
import org.backhippain.cds.service.discovery.ServiceCatalog;

/**
 * A FHIR server on a loopback port of this process, alive only while the start-up warm-up sends its
 * requests through the fetch path: it answers each prefetch query with what the warm-up request
 * prefetched for that key (a read of the Patient, a searchset per template). Its base URL is
 * allowed for the warm-up's own calls and for nothing else.
 */
final class WarmUpFhirServer implements AutoCloseable {
  private final Map<String, byte[]> answers = new HashMap<>();
  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);

  WarmUpFhirServer(List<HookWarmUp.Request> requests, ServiceCatalog services) {
    for (HookWarmUp.Request r : requests) {
      String patientId = r.request().contextText("patientId");
      for (PrefetchTemplate template : services.templates(r.serviceId())) {
        var data =
            r.request().prefetch() == null ? null : r.request().prefetch().get(template.key());
        if (data != null) {
          answers.put(
              key(template.resourceType(), patientId),
              data.toString().getBytes(StandardCharsets.UTF_8));
        }
      }
    }
    // The JDK server writes headers and body separately: without TCP_NODELAY each small answer
    // waits for a delayed ACK (about 40 ms). Read once, when its configuration class loads.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/fhir/", this::answer);
    server.setExecutor(threads);
    server.start();
  }

  /** {@code http://127.0.0.1:<port>/fhir}. */
  String base() {
    return "http://"
        + server.getAddress().getAddress().getHostAddress()
        + ":"
        + server.getAddress().getPort()
        + "/fhir";
  }

  private static String key(String type, String patientId) {
    return type + "|" + patientId;
  }

  private void answer(HttpExchange exchange) throws IOException {
    try (exchange) {
      String[] path = exchange.getRequestURI().getRawPath().split("/");
      byte[] body = null;
      if (path.length == 4) {
        body = answers.get(key(path[2], path[3]));
      } else if (path.length == 3 && exchange.getRequestURI().getRawQuery() != null) {
        for (String parameter : exchange.getRequestURI().getRawQuery().split("&")) {
          if (parameter.startsWith("patient=")) {
            String patient = URLDecoder.decode(parameter.substring(8), StandardCharsets.UTF_8);
            body = answers.get(key(path[2], patient));
          }
        }
      }
      if (body == null) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
