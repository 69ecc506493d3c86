package org.backhippain.cds.fhir;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Replaces CDS Hooks prefetch tokens ({@code {{context.patientId}}}) in a template query. */
final class PrefetchTokens {
  private static final Pattern TOKEN = Pattern.compile("\\{\\{\\s*([A-Za-z0-9_.]+)\\s*}}");

  /** A FHIR id (R4 {@code id} datatype), and not a dot segment: safe in a path and a query. */
  private static final Pattern ID = Pattern.compile("(?!\\.{1,2}$)[A-Za-z0-9\\-.]{1,64}");

  private PrefetchTokens() {}

  /**
   * Resolves every token; returns {@code null} when a token has no value, or one that is not a FHIR
   * id (such a query cannot be run, so its key counts as unavailable): a value never changes the
   * query's path or parameters.
   */
  static String resolve(String query, Map<String, String> tokens) {
    Matcher m = TOKEN.matcher(query);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = tokens.get(m.group(1));
      if (value == null || !ID.matcher(value).matches()) {
        return null;
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
