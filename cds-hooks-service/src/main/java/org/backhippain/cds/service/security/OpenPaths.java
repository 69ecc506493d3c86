package org.backhippain.cds.service.security;

import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * The paths open to anyone in every profile — health, the rule book, the handouts, the error page —
 * none of which takes a request body: Spring Security lets them through without a token, and so the
 * body filter must never read (and reserve memory for) a body sent there.
 */
public final class OpenPaths {
  private static final PathPatternRequestMatcher.Builder PATHS =
      PathPatternRequestMatcher.withDefaults();

  /** Open paths that take no body. */
  public static final RequestMatcher WITHOUT_BODY =
      new OrRequestMatcher(
          PATHS.matcher("/actuator/health/**"),
          PATHS.matcher("/review/**"),
          PATHS.matcher("/handouts/**"),
          PATHS.matcher("/error"));

  private OpenPaths() {}
}
