package org.backhippain.cds.service.security;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Who may call ({@code cds.security.*}). On by default: with no issuer configured every call is
 * refused. Only the {@code demo} profile turns it off.
 *
 * @param clockSkew tolerance on {@code exp} and {@code iat}
 * @param jwksCacheTtl how long a fetched JWK Set is used before it is fetched again
 * @param jwksRefreshInterval the least time between two fetches of one JWK Set on the request path
 *     (an unknown {@code kid} triggers at most one fetch per interval)
 * @param jwksTimeout connect and read timeout of a JWK Set fetch
 * @param sandboxTrust trust {@code sandbox} (the {@code sandbox-trust} profile); never with issuers
 * @param sandbox the public CDS Hooks Sandbox as an issuer, used only with {@code sandboxTrust}
 */
@ConfigurationProperties("cds.security")
public record SecurityProperties(
    @DefaultValue("true") boolean enabled,
    List<Issuer> issuers,
    @DefaultValue("30s") Duration clockSkew,
    @DefaultValue("10m") Duration jwksCacheTtl,
    @DefaultValue("30s") Duration jwksRefreshInterval,
    @DefaultValue("2s") Duration jwksTimeout,
    @DefaultValue("false") boolean sandboxTrust,
    Issuer sandbox) {

  public SecurityProperties {
    issuers = issuers == null ? List.of() : List.copyOf(issuers);
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
   * One trusted EHR.
   *
   * @param issuer the exact {@code iss} claim
   * @param jwksUrl where its JWK Set is published (configured out of band)
   * @param jwks its JWK Set inline (JSON), instead of or beside {@code jwksUrl}
   * @param allowedJkus {@code jku} header values this issuer may point at
   * @param algorithms accepted signature algorithms (ES384 and RS384 unless configured)
   * @param tenant when set, the {@code tenant} claim must equal it
   */
  public record Issuer(
      String issuer,
      String jwksUrl,
      String jwks,
      List<String> allowedJkus,
      List<String> algorithms,
      String tenant) {

    public Issuer {
      allowedJkus = allowedJkus == null ? List.of() : List.copyOf(allowedJkus);
      algorithms =
          algorithms == null || algorithms.isEmpty()
              ? List.of("ES384", "RS384")
              : List.copyOf(algorithms);
    }
  }
}
