package org.backhippain.cds.service.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;

/**
 * What CDS Hooks asks of a token beyond its signature (§Trusting CDS Clients), checked in this
 * order, stopping at the first failure: issuer on the allow-list; {@code exp}, {@code iat}, {@code
 * nbf} within the skew and {@code exp − iat} at most the maximum lifetime plus skew; {@code aud}
 * the URL called; {@code tenant} when configured; and last {@code jti} never seen — so a token
 * refused for any other reason never consumes its {@code jti}. A failure's description is logged,
 * never sent.
 */
final class TokenChecks {
  private TokenChecks() {}

  /** The validators in order; the first failure is the result (later ones are not run). */
  static OAuth2TokenValidator<Jwt> inOrder(List<OAuth2TokenValidator<Jwt>> validators) {
    return jwt -> {
      for (OAuth2TokenValidator<Jwt> validator : validators) {
        OAuth2TokenValidatorResult result = validator.validate(jwt);
        if (result.hasErrors()) {
          return result;
        }
      }
      return OAuth2TokenValidatorResult.success();
    };
  }

  static OAuth2TokenValidatorResult refused(String reason) {
    return OAuth2TokenValidatorResult.failure(
        new OAuth2Error(OAuth2ErrorCodes.INVALID_TOKEN, reason, null));
  }

  static String issuer(Jwt jwt) {
    return jwt.getClaimAsString(JwtClaimNames.ISS);
  }

  static OAuth2TokenValidator<Jwt> issuer(Map<String, SecurityProperties.Issuer> issuers) {
    return jwt ->
        issuers.containsKey(issuer(jwt))
            ? OAuth2TokenValidatorResult.success()
            : refused("issuer not allowed");
  }

  static OAuth2TokenValidator<Jwt> timestamps(Clock clock, Duration skew, Duration maxLifetime) {
    return jwt -> {
      Instant now = clock.instant();
      Instant exp = jwt.getExpiresAt();
      Instant iat = jwt.getIssuedAt();
      Instant nbf = jwt.getNotBefore();
      if (exp == null || !now.isBefore(exp.plus(skew))) {
        return refused("expired or no exp");
      }
      if (iat == null || iat.isAfter(now.plus(skew))) {
        return refused("iat in the future or missing");
      }
      if (nbf != null && nbf.isAfter(now.plus(skew))) {
        return refused("not valid yet (nbf)");
      }
      if (Duration.between(iat, exp).compareTo(maxLifetime.plus(skew)) > 0) {
        return refused("lifetime exp - iat over " + maxLifetime.toSeconds() + " s");
      }
      return OAuth2TokenValidatorResult.success();
    };
  }

  static OAuth2TokenValidator<Jwt> audience(List<String> urlsCalled) {
    return jwt -> {
      List<String> aud = jwt.getAudience();
      return aud != null && aud.stream().anyMatch(urlsCalled::contains)
          ? OAuth2TokenValidatorResult.success()
          : refused("aud does not match the URL called");
    };
  }

  static OAuth2TokenValidator<Jwt> tenant(Map<String, SecurityProperties.Issuer> issuers) {
    return jwt -> {
      String expected = issuers.get(issuer(jwt)).tenant();
      return expected == null || expected.isBlank() || expected.equals(jwt.getClaim("tenant"))
          ? OAuth2TokenValidatorResult.success()
          : refused("tenant does not match");
    };
  }

  static OAuth2TokenValidator<Jwt> jti(ReplayStore replays, Duration skew) {
    return jwt -> {
      String jti = jwt.getId();
      if (jti == null || jti.isBlank()) {
        return refused("no jti");
      }
      return replays.firstUse(issuer(jwt), jti, jwt.getExpiresAt().plus(skew))
          ? OAuth2TokenValidatorResult.success()
          : refused("jti replayed");
    };
  }
}
