package org.backhippain.cds.service.security;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.backhippain.cds.service.system.CdsMetrics;
import org.backhippain.cds.service.system.ErrorBody;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.cors.DefaultCorsProcessor;

/**
 * How Spring Security's refusals read: our JSON {@link ErrorBody} ({@code
 * application/json;charset=UTF-8}) with a {@code WWW-Authenticate} challenge — Bearer for the EHR
 * endpoints, Basic for the operator's. The body never says which check failed; the reason is logged
 * (never the token).
 */
final class Refusals {
  private static final Logger log = LoggerFactory.getLogger(Refusals.class);
  static final String OPERATOR_REALM = "Basic realm=\"cds-operator\"";
  private static final ErrorBody NO_EHR_TOKEN =
      new ErrorBody("unauthorized", 401, "a valid token from a trusted EHR is required");
  private static final ErrorBody NO_OPERATOR =
      new ErrorBody("unauthorized", 401, "the operator credential is required");
  private static final ErrorBody FORBIDDEN =
      new ErrorBody("forbidden", 403, "this credential does not give access to this resource");
  private static final ErrorBody REJECTED =
      new ErrorBody("bad_request", 400, "the request URL or headers are not acceptable");
  private static final ErrorBody FOREIGN_ORIGIN =
      new ErrorBody("forbidden_origin", 403, "this browser origin may not call the service");

  private final RequestMatcher operatorPaths;
  private final CdsMetrics metrics;

  Refusals(RequestMatcher operatorPaths, CdsMetrics metrics) {
    this.operatorPaths = operatorPaths;
    this.metrics = metrics;
  }

  /** 401: a Bearer challenge, or Basic on the operator's paths. */
  AuthenticationEntryPoint unauthenticated() {
    return (request, response, e) -> {
      boolean operator = operatorPaths.matches(request);
      log.warn("401 for {} {}: {}", request.getMethod(), request.getRequestURI(), reason(e));
      metrics.error("unauthorized");
      if (operator) {
        response.setHeader("WWW-Authenticate", OPERATOR_REALM);
      } else {
        response.setHeader(
            "WWW-Authenticate",
            e instanceof InvalidBearerTokenException ? "Bearer error=\"invalid_token\"" : "Bearer");
      }
      (operator ? NO_OPERATOR : NO_EHR_TOKEN).send(response);
    };
  }

  /** 403: authenticated, but not as whom this path needs. */
  AccessDeniedHandler forbidden() {
    return (request, response, e) -> {
      log.warn("403 for {} {}", request.getMethod(), request.getRequestURI());
      metrics.error("forbidden");
      response.setHeader(
          "WWW-Authenticate",
          operatorPaths.matches(request) ? OPERATOR_REALM : "Bearer error=\"insufficient_scope\"");
      FORBIDDEN.send(response);
    };
  }

  /** 400 for what the firewall rejects (encoded slashes, {@code ..}, {@code ;}, {@code //}...). */
  RequestRejectedHandler rejected() {
    return (request, response, e) -> {
      log.warn("400 for {} {}: {}", request.getMethod(), request.getRequestURI(), e.getMessage());
      metrics.error("bad_request");
      REJECTED.send(response);
    };
  }

  /** CORS refusals (a foreign origin, say) with the same JSON body. */
  DefaultCorsProcessor cors() {
    return new DefaultCorsProcessor() {
      @Override
      protected void rejectRequest(ServerHttpResponse response) throws IOException {
        HttpServletResponse servlet = ((ServletServerHttpResponse) response).getServletResponse();
        log.warn("403: CORS request from an origin that is not allowed");
        metrics.error("forbidden_origin");
        FOREIGN_ORIGIN.send(servlet);
      }
    };
  }

  private static String reason(AuthenticationException e) {
    if (e instanceof InsufficientAuthenticationException) {
      return "no credential";
    }
    String message = e.getMessage();
    String prefix = "An error occurred while attempting to decode the Jwt: ";
    if (message != null && message.startsWith(prefix)) {
      return message.substring(prefix.length());
    }
    return message;
  }
}
