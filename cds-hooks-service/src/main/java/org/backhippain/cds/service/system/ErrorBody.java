package org.backhippain.cds.service.system;

/**
 * The JSON body of every error answer: a stable machine-readable {@code error} code, the HTTP
 * {@code status}, and a {@code message} for the integrator. Never a stack trace.
 */
public record ErrorBody(String error, int status, String message) {}
