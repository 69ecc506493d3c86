package org.backhippain.cds.service.system;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;

/**
 * CORS for browser clients (CDS Hooks §CORS): preflight answered, Authorization and Content-Type
 * allowed. A servlet filter, so it covers the demo FHIR server under /fhir as well.
 */
@Configuration(proxyBeanMethods = false)
class CorsConfiguration {

  @Bean
  FilterRegistrationBean<CorsFilter> corsFilter(CdsProperties properties) {
    var cors = new org.springframework.web.cors.CorsConfiguration();
    cors.setAllowedOriginPatterns(properties.corsAllowedOrigins());
    cors.setAllowedMethods(List.of("GET", "POST", "OPTIONS"));
    cors.setAllowedHeaders(
        List.of("Authorization", "Content-Type", "Accept", "Origin", "X-Requested-With"));
    cors.setExposedHeaders(List.of("Location", "Content-Location", "X-Request-Id"));
    cors.setMaxAge(Duration.ofHours(1));
    var source = new UrlBasedCorsConfigurationSource();
    source.registerCorsConfiguration("/**", cors);
    var registration = new FilterRegistrationBean<>(new CorsFilter(source));
    registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
    return registration;
  }
}
