package org.backhippain.cds.service.system;

import org.backhippain.cds.fhir.RequiredDataUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Maps every failure to a JSON {@link ErrorBody}: client mistakes to 4xx with a clear message,
 * anything unexpected to a 500 that names no internals (the detail goes to the log, without PHI).
 */
@RestControllerAdvice
class ErrorHandling {
  private static final Logger log = LoggerFactory.getLogger(ErrorHandling.class);
  private final CdsMetrics metrics;

  ErrorHandling(CdsMetrics metrics) {
    this.metrics = metrics;
  }

  @ExceptionHandler(CdsException.class)
  ResponseEntity<ErrorBody> cds(CdsException e) {
    log.info("request refused: {} {}", e.status().value(), e.getMessage());
    metrics.error(e.error());
    return ResponseEntity.status(e.status())
        .body(new ErrorBody(e.error(), e.status().value(), e.getMessage(), e.field()));
  }

  @ExceptionHandler(RequiredDataUnavailableException.class)
  ResponseEntity<ErrorBody> requiredData(RequiredDataUnavailableException e) {
    log.info("required data unavailable: {}", e.getMessage());
    metrics.error("prefetch_unavailable");
    return body(HttpStatus.PRECONDITION_FAILED, "prefetch_unavailable", e.getMessage());
  }

  /**
   * 400 for a body that is not one strict JSON document of the expected shape, saying what is wrong
   * and where (the field's path, or line and column) in words of our own: Jackson's messages quote
   * the input and name Java classes.
   */
  @ExceptionHandler(HttpMessageNotReadableException.class)
  ResponseEntity<ErrorBody> unreadable(HttpMessageNotReadableException e) {
    metrics.error("invalid_json");
    ErrorBody body = JsonProblems.describe(e.getCause());
    log.info("request refused: 400 {}", body.message());
    return ResponseEntity.badRequest().body(body);
  }

  @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
  ResponseEntity<ErrorBody> mediaType(HttpMediaTypeNotSupportedException e) {
    metrics.error("unsupported_media_type");
    return body(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the request as JSON (Content-Type: application/json)");
  }

  @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
  ResponseEntity<ErrorBody> notAcceptable(HttpMediaTypeNotAcceptableException e) {
    return body(HttpStatus.NOT_ACCEPTABLE, "not_acceptable", "this service answers JSON");
  }

  @ExceptionHandler(HttpRequestMethodNotSupportedException.class)
  ResponseEntity<ErrorBody> method(HttpRequestMethodNotSupportedException e) {
    return body(
        HttpStatus.METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method " + e.getMethod() + " is not supported here");
  }

  @ExceptionHandler(NoResourceFoundException.class)
  ResponseEntity<ErrorBody> noResource(NoResourceFoundException e) {
    return body(HttpStatus.NOT_FOUND, "not_found", "no such resource: /" + e.getResourcePath());
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ErrorBody> unexpected(Exception e) {
    log.error("unexpected failure: {}", e.getClass().getName(), e);
    metrics.error("internal_error");
    return body(
        HttpStatus.INTERNAL_SERVER_ERROR,
        "internal_error",
        "the service could not answer this request");
  }

  static ResponseEntity<ErrorBody> body(HttpStatus status, String error, String message) {
    return ResponseEntity.status(status).body(new ErrorBody(error, status.value(), message));
  }
}
