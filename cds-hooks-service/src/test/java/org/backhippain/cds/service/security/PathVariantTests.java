package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.backhippain.cds.service.RawHttp;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every spelling of every endpoint under /cds-services — percent-encoded letters, encoded slashes,
 * double encoding, {@code //}, {@code /./}, {@code /x/../}, {@code ;param}, a trailing slash, upper
 * case and more — sent byte for byte over a socket: without a token, with a forged one and with the
 * operator's credential (which is not an EHR's), the answer is 401, 403, 400 or 404, never a 2xx.
 * The spellings that decode to the endpoint itself need the token (401): matching is on the decoded
 * path.
 */
class PathVariantTests extends SecuredService {
  private static final Logger log = LoggerFactory.getLogger(PathVariantTests.class);
  static final List<String> SERVICES =
      List.of(
          "back-hip-pain-patient-view", "back-hip-pain-order-select", "back-hip-pain-order-sign");

  /** Endpoint path → method. */
  static Map<String, String> endpoints() {
    Map<String, String> endpoints = new LinkedHashMap<>();
    endpoints.put("/cds-services", "GET");
    for (String id : SERVICES) {
      endpoints.put("/cds-services/" + id, "POST");
      endpoints.put("/cds-services/" + id + "/feedback", "POST");
    }
    endpoints.put("/cds-services/analytics", "GET");
    return endpoints;
  }

  /** Spellings of {@code path} that a client controls. */
  static Set<String> variants(String path) {
    List<String> segments = List.of(path.substring(1).split("/"));
    Set<String> variants = new LinkedHashSet<>();
    for (int i = 0; i < segments.size(); i++) {
      String segment = segments.get(i);
      variants.add(join(segments, i, "%" + hex(segment.charAt(0)) + segment.substring(1)));
      variants.add(
          join(
              segments,
              i,
              "%" + hex(segment.charAt(0)).toUpperCase(Locale.ROOT) + segment.substring(1)));
      variants.add(
          join(
              segments,
              i,
              segment.substring(0, 4) + "%" + hex(segment.charAt(4)) + segment.substring(5)));
      variants.add(join(segments, i, encodeAll(segment)));
      variants.add(join(segments, i, "%25" + hex(segment.charAt(0)) + segment.substring(1)));
      variants.add(join(segments, i, segment + ";x=1"));
      variants.add(join(segments, i, segment.toUpperCase(Locale.ROOT)));
      variants.add(join(segments, i, segment + "%00"));
      variants.add(join(segments, i, segment + "%20"));
      if (i > 0) {
        variants.add(join(segments, i, "/" + segment));
        variants.add(join(segments, i, "./" + segment));
        variants.add(join(segments, i, "x/../" + segment));
        variants.add(join(segments, i, "%2e/" + segment));
        variants.add(join(segments, i, "x/%2e%2e/" + segment));
      }
    }
    String tail = path.substring("/cds-services".length());
    if (!tail.isEmpty()) {
      variants.add("/cds-services%2F" + tail.substring(1));
      variants.add("/cds-services%2f" + tail.substring(1));
      variants.add("/cds-services%252F" + tail.substring(1));
      variants.add("/cds-services\\" + tail.substring(1));
      variants.add("/cds-services%5C" + tail.substring(1));
      variants.add("/cds-services/analytics/.." + tail);
      variants.add("/cds-services/analytics/%2e%2e" + tail);
    }
    variants.add("/" + path);
    variants.add("/." + path);
    variants.add("/x/.." + path);
    variants.add("/%2e" + path);
    variants.add(path + "/");
    variants.add(path + "/.");
    variants.add(path + ";jsessionid=1");
    variants.add(path + "?x=1");
    variants.add(path + "#x");
    variants.add(path.toUpperCase(Locale.ROOT));
    variants.add("/Cds-Services" + tail);
    variants.remove(path);
    return variants;
  }

  private static String join(List<String> segments, int replaced, String replacement) {
    List<String> copy = new ArrayList<>(segments);
    copy.set(replaced, replacement);
    return "/" + String.join("/", copy);
  }

  private static String hex(char c) {
    return Integer.toHexString(c);
  }

  private static String encodeAll(String segment) {
    StringBuilder encoded = new StringBuilder();
    for (char c : segment.toCharArray()) {
      encoded.append(Character.isLetter(c) ? "%" + hex(c) : String.valueOf(c));
    }
    return encoded.toString();
  }

  RawHttp.Response send(String method, String path, String authorization) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (authorization != null) {
      headers.put("Authorization", authorization);
    }
    if (method.equals("GET")) {
      return RawHttp.exchange(port, method, path, headers);
    }
    String body = hookBody();
    headers.put("Content-Type", "application/json");
    headers.put("Content-Length", String.valueOf(body.length()));
    headers.put("Connection", "close");
    try (RawHttp http = new RawHttp(port)) {
      return http.send(method, path, headers, body).response();
    }
  }

  record Attempt(String method, String path, String credential, String kind) {}

  @Test
  void noSpellingOfAnEndpointIsServedWithoutItsCredential() throws Exception {
    Map<String, String> credentials = new LinkedHashMap<>();
    credentials.put("none", null);
    credentials.put("forged", "Bearer " + token("/cds-services").replaceAll(".$", "A"));
    credentials.put("operator", basic("ops:ops-secret"));
    List<Attempt> attempts = new ArrayList<>();
    for (var endpoint : endpoints().entrySet()) {
      for (String variant : variants(endpoint.getKey())) {
        credentials.forEach(
            (kind, credential) -> {
              if (!(kind.equals("operator") && endpoint.getKey().endsWith("/analytics"))) {
                attempts.add(new Attempt(endpoint.getValue(), variant, credential, kind));
              }
            });
      }
    }
    ExecutorService clients = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<RawHttp.Response>> answers = new ArrayList<>();
      for (Attempt attempt : attempts) {
        answers.add(
            clients.submit(() -> send(attempt.method(), attempt.path(), attempt.credential())));
      }
      Map<Integer, Integer> statuses = new TreeMap<>();
      for (int i = 0; i < attempts.size(); i++) {
        Attempt attempt = attempts.get(i);
        RawHttp.Response response = answers.get(i).get();
        statuses.merge(response.status(), 1, Integer::sum);
        log.debug(
            "{} {} ({}) -> {}",
            attempt.method(),
            attempt.path(),
            attempt.kind(),
            response.status());
        assertThat(response.status())
            .as(attempt.method() + " " + attempt.path() + " with " + attempt.kind())
            .isIn(400, 401, 403, 404);
        if (response.status() != 404) {
          assertThat(response.header("content-type"))
              .as(attempt.path())
              .isEqualTo("application/json;charset=UTF-8");
        }
      }
      log.info(
          "{} requests over {} endpoints; statuses {}",
          attempts.size(),
          endpoints().size(),
          statuses);
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void spellingsThatDecodeToTheEndpointNeedItsTokenAndAreItsResource() {
    for (String variant : List.of("/%63ds-services", "/cds-%73ervices", "/%63%64%73-services")) {
      assertThat(send("GET", variant, null).status()).as(variant).isEqualTo(401);
      RawHttp.Response withToken = send("GET", variant, "Bearer " + token("/cds-services"));
      assertThat(withToken.status()).as(variant).isEqualTo(200);
      assertThat(withToken.body()).contains("\"services\"");
    }
    String hook = "/cds-%73ervices/back-hip-pain-patient-%76iew";
    assertThat(send("POST", hook, null).status()).isEqualTo(401);
    assertThat(send("POST", hook, "Bearer " + token(HOOK_PATH)).status()).isEqualTo(200);
    String feedback = "/%63ds-services/back-hip-pain-patient-view/%66eedback";
    RawHttp.Response unauthenticated = send("POST", feedback, null);
    assertThat(unauthenticated.status()).isEqualTo(401);
    assertThat(unauthenticated.header("www-authenticate")).isEqualTo("Bearer");
    assertThat(send("GET", "/cds-services/%61nalytics", null).status()).isEqualTo(401);
    assertThat(send("GET", "/cds-services/%61nalytics", basic("ops:ops-secret")).status())
        .isEqualTo(200);
  }

  @Test
  void whatTheFirewallRejectsIs400WithTheJsonBody() {
    for (String variant : List.of("//cds-services", "/x/../cds-services", "/cds-services;x=1")) {
      RawHttp.Response response = send("GET", variant, null);
      assertThat(response.status()).as(variant).isEqualTo(400);
      assertThat(response.header("content-type")).isEqualTo("application/json;charset=UTF-8");
      assertThat(response.body())
          .isEqualTo(
              "{\"error\":\"bad_request\",\"status\":400,"
                  + "\"message\":\"the request URL or headers are not acceptable\"}");
    }
    RawHttp.Response tomcat = send("GET", "/cds-services%2Fback-hip-pain-patient-view", null);
    assertThat(tomcat.status()).isEqualTo(400);
    assertThat(tomcat.body()).startsWith("{\"error\":\"bad_request\",\"status\":400,");
  }
}
