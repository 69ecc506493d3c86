package org.backhippain.cds.service.system;

import org.springframework.http.HttpStatus;

/**
 * A request the service answers with a defined error (400, 404, 412, 413...), naming the request
 * field at fault when there is one.
 */
public final class CdsException extends RuntimeException {
  private final HttpStatus status;
  private final String error;
  private final String field;

  private CdsException(HttpStatus status, String error, String message, String field) {
    super(message);
    this.status = status;
    this.error = error;
    this.field = field;
  }

  public static CdsException badRequest(String message) {
    return new CdsException(HttpStatus.BAD_REQUEST, "invalid_request", message, null);
  }

  /** 400 for one field of the request (its path, e.g. {@code context.patientId}). */
  public static CdsException badField(String field, String message) {
    return new CdsException(HttpStatus.BAD_REQUEST, "invalid_request", message, field);
  }

  public static CdsException notFound(String message) {
    return new CdsException(HttpStatus.NOT_FOUND, "not_found", message, null);
  }

  public static CdsException preconditionFailed(String message) {
    return new CdsException(HttpStatus.PRECONDITION_FAILED, "prefetch_unavailable", message, null);
  }

  /** 413 for a request that holds more than the service takes at once (not bytes: entries). */
  public static CdsException tooMany(String field, String message) {
    return new CdsException(HttpStatus.PAYLOAD_TOO_LARGE, "payload_too_large", message, field);
  }

  public HttpStatus status() {
    return status;
  }

  public String error() {
    return error;
  }

  /** The request field at fault, null when the request as a whole is. */
  public String field() {
    return field;
  }
}
