package org.backhippain.cds.service.hooks;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

/** The base URL the caller used, when no public base URL is configured. */
final class PublicBaseUrl {
  private PublicBaseUrl() {}

  static String of(HttpServletRequest request) {
    return ServletUriComponentsBuilder.fromContextPath(request).build().toUriString();
  }
}
