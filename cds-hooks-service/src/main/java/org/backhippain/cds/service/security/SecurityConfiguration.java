package org.backhippain.cds.service.security;

import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import org.backhippain.cds.service.system.CdsMetrics;
import org.backhippain.cds.service.system.CdsProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * JWT verification, on by default. Off only in the {@code demo} profile (which says so loudly); the
 * {@code sandbox-trust} profile trusts the public CDS Hooks Sandbox alone and says loudly that its
 * key pair is public.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {
  private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);

  /** Shared through the database; this instance's memory while the database is unreachable. */
  @Bean
  @ConditionalOnMissingBean(ReplayStore.class)
  ReplayStore replayStore(org.springframework.jdbc.core.JdbcTemplate jdbc) {
    return new JdbcReplayStore(jdbc, new InMemoryReplayStore(Clock.systemUTC()), Clock.systemUTC());
  }

  @Bean
  FilterRegistrationBean<JwtAuthenticationFilter> jwtAuthentication(
      SecurityProperties security,
      CdsProperties cds,
      ReplayStore replays,
      CdsMetrics metrics,
      Environment environment) {
    List<String> profiles = Arrays.asList(environment.getActiveProfiles());
    if (!security.enabled() && !profiles.contains("demo")) {
      throw new IllegalStateException(
          "cds.security.enabled=false is allowed only in the demo profile");
    }
    var registration =
        new FilterRegistrationBean<>(
            new JwtAuthenticationFilter(
                new JwtVerifier(security, replays, Clock.systemUTC()),
                cds.publicBaseUrl(),
                metrics));
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 2);
    if (!security.enabled()) {
      log.warn(
          "SECURITY OFF (demo profile): calls to /cds-services are NOT authenticated."
              + " Never expose this process to real EHRs or real patient data.");
      registration.setEnabled(false);
      return registration;
    }
    if (security.sandboxTrust()) {
      log.warn(
          "SANDBOX TRUST: tokens signed with the public CDS Hooks Sandbox key are accepted. That key"
              + " pair is public, so ANYONE can mint such tokens. For testing with the Sandbox only.");
    }
    if (security.trusted().isEmpty()) {
      log.warn("no trusted issuer configured (cds.security.issuers): every call will be refused");
    }
    if (cds.publicBaseUrl().isBlank()) {
      log.warn("cds.public-base-url is not set: the JWT audience is taken from each request's URL");
    }
    return registration;
  }
}
