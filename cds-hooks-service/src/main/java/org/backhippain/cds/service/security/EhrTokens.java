package org.backhippain.cds.service.security;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.service.system.PublicBaseUrls;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationManagerResolver;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * The EHR's JWT, verified by Spring Security's resource-server support over a Nimbus processor:
 * {@code typ} JWT only, keys chosen by {@link IssuerKeys} (asymmetric algorithms allowed for the
 * issuer; {@code none} and HMAC never), then {@link TokenChecks}. The audience depends on the URL
 * called, so the authentication manager is resolved per request: {@code aud} must be one of the
 * configured public base URLs followed by the decoded, normalised path of this request.
 */
final class EhrTokens implements AuthenticationManagerResolver<HttpServletRequest> {
  /** The one authority an EHR's token grants: calling /cds-services. */
  static final String EHR = "EHR";

  private static final List<GrantedAuthority> AUTHORITIES =
      List.of(new SimpleGrantedAuthority(EHR));
  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
  private final Map<String, SecurityProperties.Issuer> issuers;
  private final PublicBaseUrls bases;
  private final ReplayStore replays;
  private final Clock clock;
  private final Duration skew;
  private final Duration maxLifetime;

  EhrTokens(
      SecurityProperties properties,
      Map<String, SecurityProperties.Issuer> issuers,
      KeySets keySets,
      PublicBaseUrls bases,
      ReplayStore replays,
      Clock clock) {
    this.issuers = issuers;
    this.bases = bases;
    this.replays = replays;
    this.clock = clock;
    this.skew = properties.clockSkew();
    this.maxLifetime = properties.maxTokenLifetime();
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT));
    processor.setJWTClaimsSetAwareJWSKeySelector(new IssuerKeys(issuers, keySets));
    // The claims are checked by TokenChecks, with our skew, not by Nimbus's defaults.
    processor.setJWTClaimsSetVerifier((claims, context) -> {});
  }

  @Override
  public AuthenticationManager resolve(HttpServletRequest request) {
    JwtAuthenticationProvider provider = new JwtAuthenticationProvider(decoder(request));
    provider.setJwtAuthenticationConverter(
        jwt -> new JwtAuthenticationToken(jwt, AUTHORITIES, TokenChecks.issuer(jwt)));
    return provider::authenticate;
  }

  private JwtDecoder decoder(HttpServletRequest request) {
    NimbusJwtDecoder nimbus = new NimbusJwtDecoder(processor);
    List<OAuth2TokenValidator<Jwt>> checks =
        List.of(
            TokenChecks.issuer(issuers),
            TokenChecks.timestamps(clock, skew, maxLifetime),
            TokenChecks.audience(bases.audiences(request)),
            TokenChecks.tenant(issuers),
            TokenChecks.jti(replays, skew));
    nimbus.setJwtValidator(TokenChecks.inOrder(checks));
    return token -> {
      try {
        return nimbus.decode(token);
      } catch (BadJwtException refused) {
        throw refused;
      } catch (JwtException unusable) {
        // Whatever else fails while verifying (a key the verifier cannot use, say) is the
        // caller's token being unusable: 401, never a 500.
        throw new BadJwtException(unusable.getMessage(), unusable);
      }
    };
  }
}
