package org.backhippain.cds.service.security;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.backhippain.cds.service.HookClient;
import org.backhippain.cds.service.RawHttp;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The service as the README tells an integrator to run it — authentication on, a public base URL
 * (two ingresses), trusted issuers whose JWK Sets WireMock serves — with a small Tomcat thread pool
 * (4), a small memory budget for bodies (100 KiB), a 2 s body-read deadline and a {@code jku} host
 * that accepts connections and never answers. One Spring context, shared by every class extending
 * this one.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "server.tomcat.threads.max=" + SecuredService.THREADS,
      "server.tomcat.threads.min-spare=" + SecuredService.THREADS,
      "cds.body-read-deadline=2s",
      "cds.overload-wait=300ms",
      "cds.security.jwks-refresh-interval=2s",
      "cds.security.operator.username=ops",
      "cds.security.operator.password=ops-secret",
      "cds.cors-allowed-origins=https://ehr-app.test",
      "cds.trusted-proxies=10.9.8.7",
      // ignored with authentication on: each issuer's fhir-servers apply
      "cds.fhir.allowed-servers=http://localhost:*/fhir"
    })
public abstract class SecuredService {
  public static final int THREADS = 4;
  public static final int BUDGET = 100 * 1024;
  public static final String PUBLIC = "https://cds.hospital.test";
  static final String SECOND_INGRESS = "http://cds-internal.hospital.test:8443/cds";
  static final String ISS = "https://ehr.test";
  static final String TENANT_ISS = "https://tenant.test";
  static final String ROTATING_ISS = "https://rotating.test";
  public static final String PV = "back-hip-pain-patient-view";
  public static final String HOOK_PATH = "/cds-services/" + PV;
  static final WireMockServer keys =
      new WireMockServer(WireMockConfiguration.options().dynamicPort());
  static final Silent silentJku = new Silent();
  static final ECKey ES;
  static final RSAKey RS;
  static final ECKey JKU_KEY;
  static final ECKey FOREIGN;
  static final ECKey ROTATED_OUT;

  static {
    try {
      ES = new ECKeyGenerator(Curve.P_384).keyID("es-1").generate();
      RS = new RSAKeyGenerator(2048).keyID("rs-1").generate();
      JKU_KEY = new ECKeyGenerator(Curve.P_384).keyID("jku-1").generate();
      FOREIGN = new ECKeyGenerator(Curve.P_384).keyID("es-1").generate();
      ROTATED_OUT = new ECKeyGenerator(Curve.P_384).keyID("r-1").generate();
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
    keys.start();
    serveKeys("/jwks.json", new JWKSet(List.of(ES.toPublicJWK(), RS.toPublicJWK())));
    serveKeys("/allowed-jku.json", new JWKSet(List.of(JKU_KEY.toPublicJWK())));
    serveKeys("/other-jku.json", new JWKSet(List.of(FOREIGN.toPublicJWK())));
    serveKeys("/rotating.json", new JWKSet(List.of(ROTATED_OUT.toPublicJWK())));
  }

  static void serveKeys(String path, JWKSet set) {
    keys.stubFor(
        com.github.tomakehurst.wiremock.client.WireMock.get(urlEqualTo(path))
            .willReturn(
                aResponse()
                    .withHeader("Content-Type", "application/json")
                    .withBody(set.toString())));
  }

  @DynamicPropertySource
  static void configure(DynamicPropertyRegistry registry) {
    registry.add("cds.public-base-url", () -> PUBLIC + "," + SECOND_INGRESS);
    registry.add("cds.security.issuers[0].issuer", () -> ISS);
    registry.add("cds.security.issuers[0].jwks-url", () -> keys.baseUrl() + "/jwks.json");
    registry.add(
        "cds.security.issuers[0].allowed-jkus[0]", () -> keys.baseUrl() + "/allowed-jku.json");
    registry.add("cds.security.issuers[0].allowed-jkus[1]", silentJku::url);
    registry.add("cds.security.issuers[0].fhir-servers[0]", () -> "http://localhost:*/fhir");
    registry.add("cds.security.issuers[1].issuer", () -> TENANT_ISS);
    registry.add("cds.security.issuers[1].jwks-url", () -> keys.baseUrl() + "/jwks.json");
    registry.add("cds.security.issuers[1].tenant", () -> "hospital-a");
    registry.add("cds.security.issuers[2].issuer", () -> ROTATING_ISS);
    registry.add("cds.security.issuers[2].jwks-url", () -> keys.baseUrl() + "/rotating.json");
    // The body budget is body-heap-share x max heap / body-cost-factor: made 100 KiB here.
    registry.add("cds.body-cost-factor", () -> 0.5 * Runtime.getRuntime().maxMemory() / BUDGET);
  }

  @LocalServerPort protected int port;

  protected String url(String path) {
    return "http://localhost:" + port + path;
  }

  /** Claims as the EHR sends them for a call to {@code path} at the public base URL. */
  static JWTClaimsSet.Builder claims(String path) {
    Date now = new Date();
    return new JWTClaimsSet.Builder()
        .issuer(ISS)
        .audience(PUBLIC + path)
        .issueTime(now)
        .expirationTime(new Date(now.getTime() + 300_000))
        .jwtID(UUID.randomUUID().toString());
  }

  static String sign(JWSSigner signer, JWSHeader header, JWTClaimsSet claims) {
    try {
      SignedJWT jwt = new SignedJWT(header, claims);
      jwt.sign(signer);
      return jwt.serialize();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static JWSHeader header(JWSAlgorithm alg, String kid) {
    return new JWSHeader.Builder(alg).type(JOSEObjectType.JWT).keyID(kid).build();
  }

  /** A valid ES384 token for a call to {@code path}, its claims changed as given. */
  public static String token(String path, Consumer<JWTClaimsSet.Builder> change) {
    JWTClaimsSet.Builder builder = claims(path);
    change.accept(builder);
    try {
      return sign(new ECDSASigner(ES), header(JWSAlgorithm.ES384, "es-1"), builder.build());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static String token(String path) {
    return token(path, c -> {});
  }

  /** A minimal hook the service answers 200 to: prefetch of an out-of-scope patient. */
  public static String hookBody() {
    ObjectNode request = HookClient.request("patient-view", "p1");
    ObjectNode prefetch = request.putObject("prefetch");
    prefetch.set("patient", HookClient.json("{\"resourceType\":\"Patient\",\"id\":\"p1\"}"));
    prefetch.set(
        "conditions", HookClient.json("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}"));
    return request.toString();
  }

  protected HttpResponse<String> post(String path, String authorization, String body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url(path)))
            .timeout(java.time.Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    return send(request, authorization);
  }

  protected HttpResponse<String> get(String path, String authorization) {
    return send(HttpRequest.newBuilder(URI.create(url(path))), authorization);
  }

  /**
   * @param authorization a bare token (sent as Bearer), a full header value, or null
   */
  public static HttpResponse<String> send(HttpRequest.Builder request, String authorization) {
    if (authorization != null) {
      request.header(
          "Authorization", authorization.contains(" ") ? authorization : "Bearer " + authorization);
    }
    try {
      return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static String basic(String credentials) {
    return "Basic "
        + java.util.Base64.getEncoder()
            .encodeToString(credentials.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Milliseconds a valid hook call takes, {@code n} times, sorted. */
  protected List<Long> hookLatencies(int n, java.util.function.Supplier<String> tokens) {
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long start = System.nanoTime();
      HttpResponse<String> response = post(HOOK_PATH, tokens.get(), hookBody());
      millis.add((System.nanoTime() - start) / 1_000_000);
      if (response.statusCode() != 200) {
        throw new AssertionError(response.statusCode() + " " + response.body());
      }
    }
    Collections.sort(millis);
    return millis;
  }

  /**
   * A hook POST whose body stops after 8 bytes, the connection left open: declaring {@code
   * declaredLength} bytes, or chunked when it is negative.
   */
  protected RawHttp stall(String authorization, long declaredLength) {
    return stall(authorization, declaredLength, HOOK_PATH);
  }

  /** A POST to {@code path} that sends its headers and the body's first bytes, then stalls. */
  protected RawHttp stall(String authorization, long declaredLength, String path) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    if (authorization != null) {
      headers.put("Authorization", "Bearer " + authorization);
    }
    String start = "{\"hook\":";
    if (declaredLength < 0) {
      headers.put("Transfer-Encoding", "chunked");
      start = Integer.toHexString(start.length()) + "\r\n" + start + "\r\n";
    } else {
      headers.put("Content-Length", String.valueOf(declaredLength));
    }
    return new RawHttp(port).send("POST", path, headers, start);
  }

  public static long median(List<Long> sorted) {
    return sorted.get(sorted.size() / 2);
  }

  /** A host that accepts connections and never answers a byte; counts the connections. */
  static final class Silent {
    private final ServerSocket server;
    final AtomicInteger connections = new AtomicInteger();
    private final List<Socket> held = Collections.synchronizedList(new ArrayList<>());

    Silent() {
      try {
        server = new ServerSocket(0);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Thread acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    held.add(server.accept());
                    connections.incrementAndGet();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "silent-jku-host");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getLocalPort() + "/jwks.json";
    }
  }
}
