package org.backhippain.cds.service.security;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.backhippain.cds.service.system.CdsMetrics;
import org.backhippain.cds.service.system.CdsProperties;
import org.backhippain.cds.service.system.PublicBaseUrls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;

/**
 * The trust boundary, on Spring Security. Deny by default: every request must be authenticated
 * except {@code /actuator/health/**}, {@code /review/**}, {@code /handouts/**}, {@code /error} and,
 * in the demo, {@code /fhir/**}. {@code /cds-services/**} needs an EHR's JWT ({@link EhrTokens};
 * open only in the demo, and closed again by {@code sandbox-trust}); {@code
 * /cds-services/analytics} and the rest of {@code /actuator} need the operator credential (HTTP
 * Basic); {@code /bench/**} (the {@code bench} profile) is open with {@code demo} and refused
 * otherwise. Matching is Spring's, on the decoded path; its {@code StrictHttpFirewall} rejects
 * encoded slashes, {@code ..}, {@code ;} and {@code //} with 400. Stateless, no CSRF (no cookies,
 * no sessions), CORS only for configured origins.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {
  private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);
  private static final PathPatternRequestMatcher.Builder PATHS =
      PathPatternRequestMatcher.withDefaults();
  static final RequestMatcher CDS_SERVICES = PATHS.matcher("/cds-services/**");
  static final RequestMatcher OPERATOR_PATHS =
      new OrRequestMatcher(PATHS.matcher("/actuator/**"), PATHS.matcher("/cds-services/analytics"));

  /** Shared through the database; this instance's memory while the database is unreachable. */
  @Bean
  @ConditionalOnMissingBean(ReplayStore.class)
  ReplayStore replayStore(JdbcTemplate jdbc, Clock clock) {
    return new JdbcReplayStore(jdbc, new InMemoryReplayStore(clock), clock);
  }

  @Bean
  Refusals refusals(CdsMetrics metrics) {
    return new Refusals(OPERATOR_PATHS, metrics);
  }

  @Bean
  RequestRejectedHandler requestRejectedHandler(Refusals refusals) {
    return refusals.rejected();
  }

  @Bean
  PasswordEncoder passwordEncoder() {
    return PasswordEncoderFactories.createDelegatingPasswordEncoder();
  }

  /** The operator, declared here so that Spring Boot never generates (and logs) a password. */
  @Bean
  UserDetailsService operators(SecurityProperties security, PasswordEncoder encoder) {
    InMemoryUserDetailsManager users = new InMemoryUserDetailsManager();
    SecurityProperties.Operator operator = security.operator();
    if (!operator.configured()) {
      log.warn(
          "no operator credential (cds.security.operator.username/password): /cds-services/analytics"
              + " and /actuator (except health) refuse every call");
      return users;
    }
    String password = operator.password();
    if (!password.matches("\\{[A-Za-z0-9@._-]+}.+")) {
      // A plain secret from the configuration is held only as a hash, compared in constant time;
      // at a low cost, so that a flood of wrong credentials cannot burn the CPU.
      password = "{bcrypt}" + new BCryptPasswordEncoder(4).encode(password);
    }
    try {
      encoder.matches("", password);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "cds.security.operator.password: unknown encoding " + e.getMessage(), e);
    }
    users.createUser(
        User.withUsername(operator.username()).password(password).roles("OPERATOR").build());
    return users;
  }

  /** JWK Sets named in configuration, fetched in the background (started here). */
  @Bean(destroyMethod = "close")
  KeySets keySets(SecurityProperties security) {
    List<String> urls =
        security.authenticationOn()
            ? security.trusted().stream()
                .flatMap(issuer -> issuer.keySetUrls().stream())
                .distinct()
                .toList()
            : List.of();
    KeySets keySets =
        new KeySets(
            urls, security.jwksCacheTtl(), security.jwksRefreshInterval(), security.jwksTimeout());
    keySets.start();
    return keySets;
  }

  /** Readiness waits for the first fetch of the configured JWK Sets (bounded). */
  @Bean
  ApplicationRunner keySetsFetched(KeySets keySets) {
    return args -> keySets.awaitInitial();
  }

  @Bean
  SecurityFilterChain securityFilterChain(
      HttpSecurity http,
      SecurityProperties security,
      CdsProperties cds,
      PublicBaseUrls bases,
      ReplayStore replays,
      KeySets keySets,
      Refusals refusals,
      Clock clock,
      Environment environment)
      throws Exception {
    boolean demo = environment.acceptsProfiles(Profiles.of("demo"));
    boolean bench = environment.acceptsProfiles(Profiles.of("bench"));
    boolean ehrTokens = checkedMode(security, bases, demo);

    http.csrf(AbstractHttpConfigurer::disable)
        .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
        .requestCache(AbstractHttpConfigurer::disable)
        .logout(AbstractHttpConfigurer::disable)
        .addFilterAt(corsFilter(cds, security, refusals), CorsFilter.class)
        .httpBasic(
            basic ->
                basic
                    .realmName("cds-operator")
                    .authenticationEntryPoint(refusals.unauthenticated()))
        .exceptionHandling(
            errors ->
                errors
                    .authenticationEntryPoint(refusals.unauthenticated())
                    .accessDeniedHandler(refusals.forbidden()))
        .authorizeHttpRequests(
            requests -> {
              requests.requestMatchers(OpenPaths.WITHOUT_BODY).permitAll();
              if (demo) {
                requests.requestMatchers(PATHS.matcher("/fhir/**")).permitAll();
              }
              if (bench) {
                var benchPaths = requests.requestMatchers(PATHS.matcher("/bench/**"));
                if (demo) {
                  benchPaths.permitAll();
                } else {
                  log.warn("bench profile without demo: /bench is refused");
                  benchPaths.denyAll();
                }
              }
              requests.requestMatchers(OPERATOR_PATHS).hasRole("OPERATOR");
              var api = requests.requestMatchers(CDS_SERVICES);
              if (ehrTokens) {
                api.hasAuthority(EhrTokens.EHR);
              } else {
                api.permitAll();
              }
              requests.anyRequest().authenticated();
            });
    if (ehrTokens) {
      Map<String, SecurityProperties.Issuer> issuers = new LinkedHashMap<>();
      security.trusted().forEach(issuer -> issuers.put(issuer.issuer(), issuer));
      DefaultBearerTokenResolver bearer = new DefaultBearerTokenResolver();
      http.oauth2ResourceServer(
          resourceServer ->
              resourceServer
                  // Only calls to /cds-services carry an EHR's token; elsewhere none is verified.
                  .bearerTokenResolver(
                      request -> CDS_SERVICES.matches(request) ? bearer.resolve(request) : null)
                  .authenticationManagerResolver(
                      new EhrTokens(security, issuers, keySets, bases, replays, clock))
                  .authenticationEntryPoint(refusals.unauthenticated())
                  .accessDeniedHandler(refusals.forbidden()));
    }
    http.anonymous(Customizer.withDefaults());
    return http.build();
  }

  /**
   * Whether /cds-services needs an EHR token, with the start-up checks and warnings that go with
   * each mode.
   */
  private static boolean checkedMode(
      SecurityProperties security, PublicBaseUrls bases, boolean demo) {
    if (!security.enabled() && !demo) {
      throw new IllegalStateException(
          "cds.security.enabled=false is allowed only in the demo profile");
    }
    if (!security.authenticationOn()) {
      log.warn(
          "SECURITY OFF (demo profile): calls to /cds-services are NOT authenticated."
              + " Never expose this process to real EHRs or real patient data.");
      return false;
    }
    List<SecurityProperties.Issuer> trusted = security.trusted();
    if (bases.configured().isEmpty()) {
      throw new IllegalStateException(
          "cds.public-base-url is required when authentication is on: it is the JWT audience."
              + " Set it to the URL EHRs call (e.g. https://cds.hospital.example; several"
              + " ingress URLs comma-separated). It is never taken from request headers.");
    }
    if (security.sandboxTrust()) {
      log.warn(
          "SANDBOX TRUST: tokens signed with the public CDS Hooks Sandbox key are accepted. That key"
              + " pair is public, so ANYONE can mint such tokens. For testing with the Sandbox only.");
      if (demo) {
        log.warn(
            "demo + sandbox-trust: authentication is ON for /cds-services (the Sandbox's JWT is"
                + " required, aud one of {}); the demo FHIR server under /fhir stays open",
            bases.configured());
      }
    }
    if (trusted.isEmpty()) {
      log.warn("no trusted issuer configured (cds.security.issuers): every call will be refused");
    }
    log.info(
        "EHR tokens required under /cds-services: issuers {}, aud one of {} + path, skew {} s",
        trusted.stream().map(SecurityProperties.Issuer::issuer).toList(),
        bases.configured(),
        security.clockSkew().toSeconds());
    return true;
  }

  /**
   * CORS for browser clients (CDS Hooks §CORS): only {@code cds.cors-allowed-origins} ({@code *} in
   * the demo, none otherwise) and, under sandbox-trust, the Sandbox's origin. A preflight from an
   * allowed origin is answered 200 without a token; any cross-origin request from another origin
   * gets 403.
   */
  private static CorsFilter corsFilter(
      CdsProperties cds, SecurityProperties security, Refusals refusals) {
    List<String> origins = new ArrayList<>(cds.corsAllowedOrigins());
    if (security.sandboxTrust() && security.sandboxOrigin() != null) {
      origins.add(security.sandboxOrigin());
    }
    CorsConfiguration cors = new CorsConfiguration();
    cors.setAllowedOriginPatterns(origins);
    cors.setAllowedMethods(List.of("GET", "POST", "OPTIONS"));
    cors.setAllowedHeaders(
        List.of("Authorization", "Content-Type", "Accept", "Origin", "X-Requested-With"));
    cors.setExposedHeaders(List.of("Location", "Content-Location", "X-Request-Id"));
    cors.setMaxAge(Duration.ofHours(1));
    UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
    source.registerCorsConfiguration("/**", cors);
    CorsFilter filter = new CorsFilter(source);
    filter.setCorsProcessor(refusals.cors());
    if (!origins.isEmpty()) {
      log.info("CORS: browser origins allowed: {}", origins);
    }
    return filter;
  }
}
