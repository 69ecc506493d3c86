package org.backhippain.cds.service.security;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKMatcher;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyConverter;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.JWTClaimsSetAwareJWSKeySelector;
import java.security.Key;
import java.text.ParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Chooses the keys a token may be verified with, from its claims and header: the issuer (from the
 * claims) must be trusted and the algorithm allowed for it; a {@code jku}, if any, must be on that
 * issuer's allow-list. Keys configured for the issuer (inline, then its {@code jwks-url} set) come
 * first, then the {@code jku} set. Everything is read from memory: a {@code kid} found nowhere
 * makes the token refused at once and asks {@link KeySets} for a background refresh.
 */
final class IssuerKeys implements JWTClaimsSetAwareJWSKeySelector<SecurityContext> {
  private final Map<String, SecurityProperties.Issuer> issuers;
  private final Map<String, JWKSet> inline = new LinkedHashMap<>();
  private final KeySets keySets;

  IssuerKeys(Map<String, SecurityProperties.Issuer> issuers, KeySets keySets) {
    this.issuers = issuers;
    this.keySets = keySets;
    for (SecurityProperties.Issuer issuer : issuers.values()) {
      if (issuer.jwks() != null && !issuer.jwks().isBlank()) {
        try {
          inline.put(issuer.issuer(), JWKSet.parse(issuer.jwks()).toPublicJWKSet());
        } catch (ParseException e) {
          throw new IllegalStateException(
              "JWK Set configured for " + issuer.issuer() + " is not valid", e);
        }
      }
    }
  }

  /** A token refused while choosing its key; the reason is logged, never sent. */
  static final class Refused extends RuntimeException {
    Refused(String reason) {
      super(reason, null, false, false);
    }
  }

  @Override
  public List<? extends Key> selectKeys(
      JWSHeader header, JWTClaimsSet claims, SecurityContext context) throws KeySourceException {
    SecurityProperties.Issuer issuer = issuers.get(claims.getIssuer());
    if (issuer == null) {
      throw new Refused("issuer not allowed");
    }
    JWSAlgorithm algorithm = header.getAlgorithm();
    if (!issuer.algorithms().contains(algorithm.getName())) {
      throw new Refused("algorithm " + algorithm + " not allowed for the issuer");
    }
    if (header.getKeyID() == null || header.getKeyID().isBlank()) {
      throw new Refused("no kid");
    }
    String jku = header.getJWKURL() == null ? null : header.getJWKURL().toString();
    if (jku != null && !issuer.allowedJkus().contains(jku)) {
      throw new Refused("jku not allowed for the issuer");
    }
    JWKSelector selector = new JWKSelector(JWKMatcher.forJWSHeader(header));
    List<JWK> keys =
        Stream.of(
                inline.get(issuer.issuer()),
                issuer.jwksUrl() == null ? null : keySets.get(issuer.jwksUrl()),
                jku == null ? null : keySets.get(jku))
            .filter(set -> set != null)
            .map(selector::select)
            .filter(found -> !found.isEmpty())
            .findFirst()
            .orElse(List.of());
    if (keys.isEmpty()) {
      Stream.of(issuer.jwksUrl(), jku)
          .filter(url -> url != null && !url.isBlank())
          .forEach(keySets::refreshSoon);
      throw new Refused("unknown kid (a refresh of the issuer's JWK Set is scheduled)");
    }
    return KeyConverter.toJavaKeys(keys);
  }
}
