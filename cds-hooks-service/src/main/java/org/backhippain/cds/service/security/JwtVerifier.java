package org.backhippain.cds.service.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;

/**
 * Verifies the JWT a CDS client sends (CDS Hooks §Trusting CDS Clients): a JWS signed with an
 * allowed asymmetric algorithm ({@code none} and HMAC never), {@code typ} JWT, {@code iss} on the
 * allow-list, key by {@code kid} from the issuer's JWK Set (configured, or from {@code jku} only
 * when that URL is allowed for the issuer), {@code aud} equal to the URL called, {@code exp} and
 * {@code iat} within the skew, {@code jti} never seen before, {@code tenant} when configured.
 */
public final class JwtVerifier {
  private final Map<String, SecurityProperties.Issuer> issuers = new HashMap<>();
  private final Map<String, JWKSet> inlineKeys = new HashMap<>();
  private final JwksCache cache;
  private final ReplayStore replays;
  private final Clock clock;
  private final long skewMillis;

  public JwtVerifier(SecurityProperties properties, ReplayStore replays, Clock clock) {
    this.replays = replays;
    this.clock = clock;
    this.skewMillis = properties.clockSkew().toMillis();
    this.cache =
        new JwksCache(
            clock,
            properties.jwksCacheTtl(),
            properties.jwksRefreshInterval(),
            properties.jwksTimeout());
    for (SecurityProperties.Issuer issuer : properties.trusted()) {
      issuers.put(issuer.issuer(), issuer);
      if (issuer.jwks() != null && !issuer.jwks().isBlank()) {
        try {
          inlineKeys.put(issuer.issuer(), JWKSet.parse(issuer.jwks()));
        } catch (ParseException e) {
          throw new IllegalStateException(
              "JWK Set configured for " + issuer.issuer() + " is not valid", e);
        }
      }
      for (String alg : issuer.algorithms()) {
        JWSAlgorithm algorithm = JWSAlgorithm.parse(alg);
        if (JWSAlgorithm.Family.HMAC_SHA.contains(algorithm) || !isAsymmetric(algorithm)) {
          throw new IllegalStateException("algorithm " + alg + " may not be configured");
        }
      }
    }
  }

  /** The verified issuer and jti. */
  public record Verified(String issuer, String jti) {}

  /** A token refused; the reason goes to the log, never to the caller. */
  public static final class Rejected extends Exception {
    Rejected(String reason) {
      super(reason);
    }
  }

  public Verified verify(String token, String audience) throws Rejected {
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(token);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException | IllegalArgumentException e) {
      throw new Rejected("not a signed JWT");
    }
    JWSHeader header = jwt.getHeader();
    JWSAlgorithm algorithm = header.getAlgorithm();
    if (algorithm == null || !isAsymmetric(algorithm)) {
      throw new Rejected("algorithm " + algorithm + " refused");
    }
    if (!JOSEObjectType.JWT.equals(header.getType())) {
      throw new Rejected("typ is not JWT");
    }
    SecurityProperties.Issuer issuer = issuers.get(claims.getIssuer());
    if (issuer == null) {
      throw new Rejected("issuer not allowed");
    }
    if (!issuer.algorithms().contains(algorithm.getName())) {
      throw new Rejected("algorithm " + algorithm + " not allowed for the issuer");
    }
    String kid = header.getKeyID();
    if (kid == null || kid.isBlank()) {
      throw new Rejected("no kid");
    }
    JWK key = key(issuer, header, kid);
    if (!jwt.getState().equals(SignedJWT.State.SIGNED) || !verifies(jwt, algorithm, key)) {
      throw new Rejected("signature invalid");
    }
    if (claims.getAudience() == null || !claims.getAudience().contains(audience)) {
      throw new Rejected("aud does not match the URL called");
    }
    Instant now = clock.instant();
    Date exp = claims.getExpirationTime();
    Date iat = claims.getIssueTime();
    if (exp == null || !now.isBefore(exp.toInstant().plusMillis(skewMillis))) {
      throw new Rejected("expired or no exp");
    }
    if (iat == null || iat.toInstant().isAfter(now.plusMillis(skewMillis))) {
      throw new Rejected("iat in the future or missing");
    }
    if (issuer.tenant() != null && !issuer.tenant().isBlank()) {
      Object tenant = claims.getClaim("tenant");
      if (!issuer.tenant().equals(tenant)) {
        throw new Rejected("tenant does not match");
      }
    }
    String jti = claims.getJWTID();
    if (jti == null || jti.isBlank()) {
      throw new Rejected("no jti");
    }
    if (!replays.firstUse(issuer.issuer(), jti, exp.toInstant().plusMillis(skewMillis))) {
      throw new Rejected("jti replayed");
    }
    return new Verified(issuer.issuer(), jti);
  }

  private JWK key(SecurityProperties.Issuer issuer, JWSHeader header, String kid) throws Rejected {
    if (header.getJWKURL() != null) {
      String jku = header.getJWKURL().toString();
      if (!issuer.allowedJkus().contains(jku)) {
        throw new Rejected("jku not allowed for the issuer");
      }
      JWK key = cache.key(jku, kid);
      if (key != null) {
        return key;
      }
    }
    JWKSet inline = inlineKeys.get(issuer.issuer());
    if (inline != null && inline.getKeyByKeyId(kid) != null) {
      return inline.getKeyByKeyId(kid);
    }
    if (issuer.jwksUrl() != null && !issuer.jwksUrl().isBlank()) {
      JWK key = cache.key(issuer.jwksUrl(), kid);
      if (key != null) {
        return key;
      }
    }
    throw new Rejected("unknown kid");
  }

  private static boolean verifies(SignedJWT jwt, JWSAlgorithm algorithm, JWK key) throws Rejected {
    try {
      JWSVerifier verifier;
      if (JWSAlgorithm.Family.EC.contains(algorithm) && key instanceof ECKey ec) {
        verifier = new ECDSAVerifier(ec.toPublicJWK());
      } else if (JWSAlgorithm.Family.RSA.contains(algorithm) && key instanceof RSAKey rsa) {
        verifier = new RSASSAVerifier(rsa.toPublicJWK());
      } else {
        throw new Rejected("key type does not fit the algorithm");
      }
      return jwt.verify(verifier);
    } catch (JOSEException e) {
      return false;
    }
  }

  private static boolean isAsymmetric(JWSAlgorithm algorithm) {
    return JWSAlgorithm.Family.EC.contains(algorithm)
        || JWSAlgorithm.Family.RSA.contains(algorithm);
  }
}
