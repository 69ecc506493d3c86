package org.backhippain.cds.service.hooks;

import ca.uhn.fhir.context.FhirContext;
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
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.fhir.PrefetchTemplate;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * A FHIR server on a loopback port of this process, alive only while the start-up warm-up sends
 * content cases through the fetch path: it answers the prefetch queries with each case's data (a
 * read of the Patient, a searchset per template). Its base URL is allowed for the warm-up's own
 * calls and for nothing else.
 */
final class WarmUpFhirServer implements AutoCloseable {
  private final Map<String, byte[]> answers = new HashMap<>();
  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);

  WarmUpFhirServer(List<ContentCase> cases, List<PrefetchTemplate> templates, FhirContext fhir) {
    for (ContentCase c : cases) {
      List<Resource> resources =
          c.bundle().getEntry().stream().map(Bundle.BundleEntryComponent::getResource).toList();
      for (PrefetchTemplate template : templates) {
        if (template.isRead()) {
          resources.stream()
              .filter(r -> r.fhirType().equals(template.resourceType()))
              .filter(r -> r.getIdElement().getIdPart().equals(c.patientId()))
              .findFirst()
              .ifPresent(
                  r -> answers.put(key(template.resourceType(), c.patientId()), json(fhir, r)));
        } else {
          Bundle searchset = new Bundle().setType(Bundle.BundleType.SEARCHSET);
          resources.stream()
              .filter(r -> template.accepts(r.fhirType()))
              .forEach(r -> searchset.addEntry().setResource(r));
          answers.put(key(template.resourceType(), c.patientId()), json(fhir, searchset));
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

  private static byte[] json(FhirContext fhir, Resource resource) {
    return fhir.newJsonParser().encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
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
