package org.backhippain.cds.service.system;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import java.io.CharConversionException;
import java.util.List;

/**
 * What is wrong with a request body Jackson refused, as a 400 {@link ErrorBody} that names the
 * field (its path, {@code fhirAuthorization.expires_in}) or the place (line and column) — never
 * Jackson's own message, which quotes the input and names Java classes.
 */
final class JsonProblems {
  private JsonProblems() {}

  static ErrorBody describe(Throwable cause) {
    if (cause == null) {
      return invalid("a JSON request body is required", null);
    }
    if (cause instanceof StreamConstraintsException) {
      return invalid(
          "the request body exceeds a JSON limit (nesting deeper than "
              + JsonConfiguration.MAX_DEPTH
              + " levels, or a value too long)",
          null);
    }
    if (cause instanceof CharConversionException
        || (cause.getMessage() != null && cause.getMessage().contains("Invalid UTF-8"))) {
      return invalid("the request body is not valid UTF-8", null);
    }
    if (cause instanceof MismatchedInputException mismatch) {
      String field = path(mismatch.getPath());
      if (mismatch.getOriginalMessage() != null
          && mismatch.getOriginalMessage().startsWith("Trailing token")) {
        return trailing(mismatch.getLocation());
      }
      return field == null
          ? invalid("the request body is not a JSON object of the expected shape", null)
          : invalid("'" + field + "' has the wrong JSON type or value", field);
    }
    if (cause instanceof JsonMappingException mapping) {
      String field = path(mapping.getPath());
      if (mapping.getCause() instanceof JsonParseException parse && duplicateName(parse) != null) {
        String duplicate = (field == null ? "" : field + ".") + duplicateName(parse);
        return duplicate(shown(duplicate));
      }
      return field == null
          ? invalid("the request body is not a JSON object of the expected shape", null)
          : invalid("'" + field + "' cannot be read", field);
    }
    if (cause instanceof JsonParseException parse) {
      if (duplicateName(parse) != null) {
        return duplicate(duplicatePath(parse));
      }
      if (cause instanceof JsonEOFException) {
        return invalid("the request body ends before its JSON document does", null);
      }
      if (afterTheDocument(parse)) {
        return trailing(parse.getLocation());
      }
      return invalid("the request body is not valid JSON" + at(parse.getLocation()), null);
    }
    if (cause instanceof JsonProcessingException processing) {
      return invalid("the request body is not valid JSON" + at(processing.getLocation()), null);
    }
    return invalid("the request body is not valid JSON", null);
  }

  private static ErrorBody trailing(JsonLocation location) {
    return invalid(
        "the request body holds more than one JSON document (content after the end)" + at(location),
        null);
  }

  /** True when the parser failed at the top level after a whole document had been read. */
  private static boolean afterTheDocument(JsonParseException e) {
    JsonParser parser = e.getProcessor();
    return parser != null
        && parser.getParsingContext() != null
        && parser.getParsingContext().inRoot()
        && parser.getParsingContext().getEntryCount() > 0;
  }

  private static ErrorBody duplicate(String field) {
    return invalid(
        "duplicate key" + (field == null ? "" : " '" + field + "'") + " in a JSON object", field);
  }

  /** The key named twice, from Jackson's "Duplicate field 'x'"; null for other errors. */
  private static String duplicateName(JsonParseException e) {
    String original = e.getOriginalMessage();
    if (original == null || !original.startsWith("Duplicate field '")) {
      return null;
    }
    int end = original.lastIndexOf('\'');
    return end > "Duplicate field '".length()
        ? original.substring("Duplicate field '".length(), end)
        : null;
  }

  private static ErrorBody invalid(String message, String field) {
    return new ErrorBody("invalid_json", 400, message, field);
  }

  private static String at(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
  }

  /** {@code context.selections[2]}; null for the document itself. */
  static String path(List<JsonMappingException.Reference> references) {
    StringBuilder out = new StringBuilder();
    for (JsonMappingException.Reference reference : references) {
      if (reference.getFieldName() != null) {
        if (!out.isEmpty()) {
          out.append('.');
        }
        out.append(reference.getFieldName());
      } else if (reference.getIndex() >= 0) {
        out.append('[').append(reference.getIndex()).append(']');
      }
    }
    return out.isEmpty() ? null : shown(out.toString());
  }

  /** A path as the error body shows it: escaped, and at most 200 characters. */
  private static String shown(String path) {
    String escaped = LogEscaping.escape(path);
    return escaped.length() <= 200 ? escaped : escaped.substring(0, 200) + "...";
  }

  /** The duplicated key's path, from where the parser stood. */
  private static String duplicatePath(JsonParseException e) {
    JsonParser parser = e.getProcessor();
    if (parser == null) {
      return null;
    }
    String pointer = parser.getParsingContext().pathAsPointer().toString();
    if (pointer.isEmpty()) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    for (String segment : pointer.substring(1).split("/", -1)) {
      String name = segment.replace("~1", "/").replace("~0", "~");
      if (name.matches("\\d+")) {
        out.append('[').append(name).append(']');
      } else {
        out.append(out.isEmpty() ? "" : ".").append(name);
      }
    }
    return shown(out.toString());
  }
}
