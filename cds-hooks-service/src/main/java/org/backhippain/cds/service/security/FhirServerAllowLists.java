package org.backhippain.cds.service.security;

import java.util.Map;
import java.util.stream.Collectors;
import org.backhippain.cds.fhir.FhirServers;
import org.backhippain.cds.service.system.CdsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.stereotype.Component;

/**
 * Which FHIR servers a caller's hooks may have read: with authentication on, the {@code
 * fhir-servers} of the issuer whose signature Spring Security verified (nothing for any other
 * caller); with it off, {@code cds.fhir.allowed-servers}. Entries are checked at start-up.
 */
@Component
public class FhirServerAllowLists {
  private static final Logger log = LoggerFactory.getLogger(FhirServerAllowLists.class);
  private final boolean authenticationOn;
  private final Map<String, FhirServers> byIssuer;
  private final FhirServers global;

  FhirServerAllowLists(SecurityProperties security, CdsProperties properties) {
    this.authenticationOn = security.authenticationOn();
    this.byIssuer =
        authenticationOn
            ? security.trusted().stream()
                .collect(
                    Collectors.toMap(
                        SecurityProperties.Issuer::issuer,
                        i -> FhirServers.of(i.fhirServers()),
                        (a, b) -> a))
            : Map.of();
    this.global = FhirServers.of(properties.fhir().allowedServers());
    if (authenticationOn) {
      byIssuer.forEach(
          (issuer, servers) ->
              log.info("FHIR servers readable for issuer {}: {}", issuer, servers.entries()));
    } else {
      log.info("FHIR servers readable (authentication off): {}", global.entries());
    }
  }

  /** The allow-list for the caller Spring Security authenticated (or did not, with it off). */
  public FhirServers forCaller(Authentication authentication) {
    if (!authenticationOn) {
      return global;
    }
    return authentication instanceof JwtAuthenticationToken token
        ? byIssuer.getOrDefault(token.getName(), FhirServers.none())
        : FhirServers.none();
  }
}
