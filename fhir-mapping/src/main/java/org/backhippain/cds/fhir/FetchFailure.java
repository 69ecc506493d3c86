package org.backhippain.cds.fhir;

import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.client.exceptions.FhirClientConnectionException;
import ca.uhn.fhir.rest.client.exceptions.NonFhirResponseException;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import javax.net.ssl.SSLException;
import org.apache.http.NoHttpResponseException;
import org.apache.http.client.CircularRedirectException;
import org.apache.http.client.RedirectException;
import org.apache.http.conn.ConnectTimeoutException;
import org.apache.http.conn.ConnectionPoolTimeoutException;

/**
 * Why a prefetch key could not be read from the FHIR server, in words (for the 412 message and the
 * log line) and as a short code (the {@code failure} tag of the {@code cds.fhir.fetch} metric).
 * Never a Java class name, a URL with a query, or a token.
 */
public enum FetchFailure {
  NO_SERVER("no_server", "no fhirServer"),
  NOT_ALLOWED("not_allowed", "FHIR server not allowed"),
  UNRESOLVED_TOKEN("unresolved_token", "a prefetch token has no usable value"),
  TOKEN_OTHER_PATIENT("token_other_patient", "access token issued for another patient"),
  TOKEN_EXPIRED("token_expired", "access token expired"),
  TOKEN_CLEARTEXT("token_cleartext", "access token not sent over plain http"),
  NOT_IN_SCOPE("not_in_scope", "not in scope of the access token"),
  ORIGIN_BUSY("origin_busy", "origin busy"),
  TIMEOUT("timeout", "timeout"),
  REFUSED("refused", "connection refused"),
  HOST_UNKNOWN("host_unknown", "host not found"),
  TLS("tls", "TLS handshake failed"),
  CONNECTION("connection", "connection failed"),
  REDIRECT_OTHER_ORIGIN("redirect_other_origin", "redirected to another origin"),
  TOO_MANY_REDIRECTS("too_many_redirects", "too many redirects"),
  NEXT_OUTSIDE("next_outside", "next link outside the FHIR server"),
  PAGE_CAP("page_cap", "search cut short at page cap"),
  TOO_LARGE("too_large", "response too large"),
  MEMORY_FULL("memory_full", "the service's memory budget is full"),
  HTTP_STATUS("http_status", "HTTP status"),
  NOT_FHIR("not_fhir", "not a FHIR response"),
  MALFORMED("malformed", "malformed FHIR"),
  WRONG_TYPE("wrong_type", "wrong resource type"),
  FAILED("failed", "fetch failed");

  private final String code;
  private final String words;

  FetchFailure(String code, String words) {
    this.code = code;
    this.words = words;
  }

  /** The metric tag value. */
  public String code() {
    return code;
  }

  public String words() {
    return words;
  }

  /** The failure a fetch ended with, from what HAPI or the HTTP client threw. */
  static Described describe(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Overrun overrun) {
        return new Described(overrun.failure, overrun.getMessage());
      }
      if (t instanceof DnsTimeout) {
        return new Described(TIMEOUT, "timeout (DNS lookup)");
      }
    }
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof NonFhirResponseException) {
        return new Described(NOT_FHIR, NOT_FHIR.words);
      }
      if (t instanceof FhirClientConnectionException) {
        // HAPI's wrapper for everything below HTTP (it says "HTTP 500"): look at its cause.
        continue;
      }
      if (t instanceof BaseServerResponseException e) {
        return new Described(HTTP_STATUS, "FHIR server answered HTTP " + e.getStatusCode());
      }
      FetchFailure failure = connection(t);
      if (failure != null) {
        return new Described(failure, failure.words);
      }
      if (t instanceof DataFormatException || t instanceof JsonProcessingException) {
        return new Described(MALFORMED, "FHIR server sent malformed FHIR");
      }
      if (t instanceof ClassCastException) {
        return new Described(WRONG_TYPE, "FHIR server sent the wrong resource type");
      }
    }
    return error instanceof FhirClientConnectionException
        ? new Described(CONNECTION, CONNECTION.words)
        : new Described(FAILED, FAILED.words);
  }

  private static FetchFailure connection(Throwable t) {
    if (t instanceof RedirectException || t instanceof CircularRedirectException) {
      return TOO_MANY_REDIRECTS;
    }
    if (t instanceof ConnectionPoolTimeoutException) {
      return ORIGIN_BUSY;
    }
    if (t instanceof ConnectTimeoutException
        || t instanceof SocketTimeoutException
        || t instanceof InterruptedIOException) {
      return TIMEOUT;
    }
    if (t instanceof ConnectException) {
      return REFUSED;
    }
    if (t instanceof UnknownHostException) {
      return HOST_UNKNOWN;
    }
    if (t instanceof SSLException) {
      return TLS;
    }
    if (t instanceof NoRouteToHostException || t instanceof NoHttpResponseException) {
      return CONNECTION;
    }
    if (t instanceof java.io.IOException && !(t instanceof JsonProcessingException)) {
      return CONNECTION;
    }
    return null;
  }

  /** A DNS lookup not answered within the connect timeout. */
  static final class DnsTimeout extends UnknownHostException {
    DnsTimeout(String host) {
      super("DNS lookup timed out");
    }
  }

  /** A failure with the words to say (status codes, limits filled in). */
  record Described(FetchFailure failure, String words) {}

  /**
   * Thrown into the HTTP client or HAPI when the service itself stops an exchange (a limit, a
   * policy); carries the failure so that no wrapping loses it.
   */
  static final class Overrun extends java.io.IOException {
    final transient FetchFailure failure;

    Overrun(FetchFailure failure, String words) {
      super(words);
      this.failure = failure;
    }
  }
}
