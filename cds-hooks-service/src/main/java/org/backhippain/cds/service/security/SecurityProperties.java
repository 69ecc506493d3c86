package org.backhippain.cds.service.security;

import com.nimbusds.jose.JWSAlgorithm;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Who may call ({@code cds.security.*}). On by default: with no issuer configured every call is
 * refused. Only the {@code demo} profile turns it off, and {@code sandbox-trust} turns it on again.
 *
 * @param clockSkew tolerance on {@code exp}, {@code iat} and {@code nbf}
 * @param maxTokenLifetime the longest {@code exp − iat} accepted (CDS Hooks: 5 minutes), plus skew
 * @param jwksCacheTtl how often every configured JWK Set is fetched again in the background
 * @param jwksRefreshInterval the least time between two fetches of one JWK Set asked for by an
 *     unknown {@code kid} (such a token is refused at once; the fetch runs in the background)
 * @param jwksTimeout DNS, connect and read timeout of a JWK Set fetch
 * @param sandboxTrust trust {@code sandbox} (the {@code sandbox-trust} profile); never with issuers
 * @param sandbox the public CDS Hooks Sandbox as an issuer, used only with {@code sandboxTrust}
 * @param sandboxOrigin the Sandbox's browser origin, allowed by CORS under {@code sandboxTrust}
 * @param operator the operator credential (HTTP Basic) for analytics and the actuator
 */
@ConfigurationProperties("cds.security")
public record SecurityProperties(
    @DefaultValue("true") boolean enabled,
    List<Issuer> issuers,
    @DefaultValue("30s") Duration clockSkew,
    @DefaultValue("5m") Duration maxTokenLifetime,
    @DefaultValue("10m") Duration jwksCacheTtl,
    @DefaultValue("30s") Duration jwksRefreshInterval,
    @DefaultValue("2s") Duration jwksTimeout,
    @DefaultValue("false") boolean sandboxTrust,
    Issuer sandbox,
    String sandboxOrigin,
    @DefaultValue Operator operator) {

  public SecurityProperties {
    issuers = issuers == null ? List.of() : List.copyOf(issuers);
  }

  /**
   * Whether EHR tokens are required under /cds-services: sandbox-trust turns it on even in demo.
   */
  public boolean authenticationOn() {
    return enabled || sandboxTrust;
  }

  /**
   * The issuers actually trusted: the configured ones, or the sandbox alone under sandbox-trust.
   */
  public List<Issuer> trusted() {
    if (!sandboxTrust) {
      return issuers;
    }
    if (!issuers.isEmpty()) {
      throw new IllegalStateException(
          "the sandbox-trust profile cannot be combined with other trusted issuers");
    }
    if (sandbox == null) {
      throw new IllegalStateException("sandbox-trust without cds.security.sandbox");
    }
    return List.of(sandbox);
  }

  /**
   * The operator (HTTP Basic) for {@code /cds-services/analytics} and {@code /actuator} beyond
   * health. Empty: nobody can call those.
   *
   * @param password plain, or encoded with its id ({@code {bcrypt}$2a$...})
   */
  public record Operator(@DefaultValue("") String username, @DefaultValue("") String password) {
    public boolean configured() {
      return !username.isBlank() && !password.isBlank();
    }
  }

  /**
   * One trusted EHR.
   *
   * @param issuer the exact {@code iss} claim
   * @param jwksUrl where its JWK Set is published (configured out of band)
   * @param jwks its JWK Set inline (JSON), instead of or beside {@code jwksUrl}
   * @param allowedJkus {@code jku} header values this issuer may point at
   * @param algorithms accepted signature algorithms (ES384 and RS384 unless configured)
   * @param tenant when set, the {@code tenant} claim must equal it
   * @param fhirServers base URLs of the FHIR servers this issuer's calls may have read ({@code
   *     fhirServer} must match one; none: nothing is read)
   */
  public record Issuer(
      String issuer,
      String jwksUrl,
      String jwks,
      List<String> allowedJkus,
      List<String> algorithms,
      String tenant,
      List<String> fhirServers) {

    public Issuer {
      allowedJkus = allowedJkus == null ? List.of() : List.copyOf(allowedJkus);
      fhirServers = fhirServers == null ? List.of() : List.copyOf(fhirServers);
      algorithms =
          algorithms == null || algorithms.isEmpty()
              ? List.of("ES384", "RS384")
              : List.copyOf(algorithms);
      for (String alg : algorithms) {
        JWSAlgorithm algorithm = JWSAlgorithm.parse(alg);
        if (!JWSAlgorithm.Family.EC.contains(algorithm)
            && !JWSAlgorithm.Family.RSA.contains(algorithm)) {
          throw new IllegalStateException(
              "algorithm " + alg + " may not be configured (only RSA and EC signatures)");
        }
      }
      for (String url : Stream.concat(Stream.ofNullable(jwksUrl), allowedJkus.stream()).toList()) {
        if (!url.isBlank() && !List.of("https", "http").contains(URI.create(url).getScheme())) {
          throw new IllegalStateException("JWK Set URL " + url + " must be http(s)");
        }
      }
    }

    /** The JWK Set URLs named for this issuer: its jwks-url and its allowed jku values. */
    List<String> keySetUrls() {
      return Stream.concat(
              Stream.ofNullable(jwksUrl).filter(u -> !u.isBlank()), allowedJkus.stream())
          .distinct()
          .toList();
    }
  }
}
