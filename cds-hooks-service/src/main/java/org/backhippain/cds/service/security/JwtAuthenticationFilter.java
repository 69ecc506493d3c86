package org.backhippain.cds.service.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.backhippain.cds.service.system.CdsMetrics;
import org.backhippain.cds.service.system.ErrorBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

/**
 * Every call under {@code /cds-services} (discovery, hooks, feedback) needs a valid EHR JWT. A
 * refusal is a 401 whose body does not say which check failed; the reason is logged, the token
 * never.
 */
final class JwtAuthenticationFilter extends OncePerRequestFilter {
  private static final Logger log = LoggerFactory.getLogger(JwtAuthenticationFilter.class);
  private static final ErrorBody REFUSAL =
      new ErrorBody(
          "unauthorized",
          HttpServletResponse.SC_UNAUTHORIZED,
          "a valid token from a trusted EHR is required");

  private final JwtVerifier verifier;
  private final String publicBaseUrl;
  private final CdsMetrics metrics;

  JwtAuthenticationFilter(JwtVerifier verifier, String publicBaseUrl, CdsMetrics metrics) {
    this.verifier = verifier;
    this.publicBaseUrl = publicBaseUrl == null ? "" : publicBaseUrl.replaceAll("/+$", "");
    this.metrics = metrics;
  }

  @Override
  protected boolean shouldNotFilter(HttpServletRequest request) {
    String path = request.getRequestURI().substring(request.getContextPath().length());
    return "OPTIONS".equals(request.getMethod())
        || !path.startsWith("/cds-services")
        || path.equals("/cds-services/analytics");
  }

  @Override
  protected void doFilterInternal(
      HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    String header = request.getHeader("Authorization");
    String reason;
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      reason = "no bearer token";
    } else {
      try {
        JwtVerifier.Verified verified =
            verifier.verify(header.substring(7).strip(), audience(request));
        log.debug("caller verified: iss={}", verified.issuer());
        chain.doFilter(request, response);
        return;
      } catch (JwtVerifier.Rejected e) {
        reason = e.getMessage();
      }
    }
    log.warn("401 for {} {}: {}", request.getMethod(), request.getRequestURI(), reason);
    metrics.error("unauthorized");
    response.setHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
    REFUSAL.send(response);
  }

  /** The exact URL called, as the EHR addressed it: the public base URL plus the path. */
  private String audience(HttpServletRequest request) {
    String base =
        publicBaseUrl.isEmpty()
            ? ServletUriComponentsBuilder.fromContextPath(request).build().toUriString()
            : publicBaseUrl;
    return base + request.getRequestURI().substring(request.getContextPath().length());
  }
}
