package org.backhippain.cds.service.system;

import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

/**
 * The URLs EHRs call this service by ({@code cds.public-base-url}), never the caller's headers: the
 * JWT audience is one of them plus the path called, and links in cards start with the one the
 * caller's token was addressed to. Only when none is configured (the demo, with authentication off)
 * is the request's own URL used — as Tomcat saw it, {@code X-Forwarded-*} honoured only from {@code
 * cds.trusted-proxies}.
 */
@Component
public class PublicBaseUrls {
  private final List<String> configured;

  public PublicBaseUrls(CdsProperties properties) {
    this.configured = properties.publicBaseUrl();
  }

  /** The configured base URLs, without trailing slashes; empty in the demo. */
  public List<String> configured() {
    return configured;
  }

  /** Each configured base URL followed by the decoded, normalised path this request addresses. */
  public List<String> audiences(HttpServletRequest request) {
    String path = path(request);
    return configured.stream().map(base -> base + path).toList();
  }

  /**
   * The base URL for links in the answer to this request: the configured one the caller's token
   * named, else the first configured, else (nothing configured) the request's own.
   */
  public String of(HttpServletRequest request) {
    if (configured.isEmpty()) {
      return ServletUriComponentsBuilder.fromContextPath(request).build().toUriString();
    }
    if (request.getUserPrincipal() instanceof JwtAuthenticationToken token) {
      Collection<String> aud = token.getToken().getAudience();
      String path = path(request);
      for (String base : configured) {
        if (aud != null && aud.contains(base + path)) {
          return base;
        }
      }
    }
    return configured.get(0);
  }

  /** The path within the application, decoded and normalised by the servlet container. */
  static String path(HttpServletRequest request) {
    return request.getServletPath() + Objects.requireNonNullElse(request.getPathInfo(), "");
  }

  /** Absolute http(s) URLs without query or fragment, trailing slashes removed. */
  static List<String> normalised(List<String> urls) {
    return urls.stream()
        .map(String::strip)
        .filter(url -> !url.isEmpty())
        .map(
            url -> {
              URI uri;
              try {
                uri = URI.create(url);
              } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cds.public-base-url: not a URL: " + url, e);
              }
              if (!List.of("http", "https").contains(uri.getScheme())
                  || uri.getHost() == null
                  || uri.getRawQuery() != null
                  || uri.getRawFragment() != null) {
                throw new IllegalArgumentException(
                    "cds.public-base-url: " + url + " must be an http(s) URL without query");
              }
              return url.replaceAll("/+$", "");
            })
        .distinct()
        .toList();
  }
}
