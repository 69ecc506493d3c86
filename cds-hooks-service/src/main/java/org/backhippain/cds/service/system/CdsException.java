package org.backhippain.cds.service.system;

import org.springframework.http.HttpStatus;

/** A request the service answers with a defined error (400, 404, 412, 413...). */
public final class CdsException extends RuntimeException {
  private final HttpStatus status;
  private final String error;

  private CdsException(HttpStatus status, String error, String message) {
    super(message);
    this.status = status;
    this.error = error;
  }

  public static CdsException badRequest(String message) {
    return new CdsException(HttpStatus.BAD_REQUEST, "invalid_request", message);
  }

  public static CdsException notFound(String message) {
    return new CdsException(HttpStatus.NOT_FOUND, "not_found", message);
  }

  public static CdsException preconditionFailed(String message) {
    return new CdsException(HttpStatus.PRECONDITION_FAILED, "prefetch_unavailable", message);
  }

  public HttpStatus status() {
    return status;
  }

  public String error() {
    return error;
  }
}
