package org.backhippain.cds.service.cards;

import com.fasterxml.jackson.annotation.JsonRawValue;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;

/**
 * One action of a suggestion: {@code create} with a FHIR resource, {@code delete} with a {@code
 * resourceId} ({@code Type/id}), or {@code update}. The resource is HAPI's JSON encoding, written
 * into the answer as it is (encoded once, never read back into a tree); read back (a client of the
 * service), it is the resource's JSON text.
 */
public record SuggestionAction(
    String type,
    String description,
    @JsonRawValue @JsonDeserialize(using = SuggestionAction.JsonText.class) String resource,
    String resourceId) {

  /** Any JSON value as its text. */
  static final class JsonText extends JsonDeserializer<String> {
    @Override
    public String deserialize(JsonParser parser, DeserializationContext context)
        throws IOException {
      return parser.readValueAsTree().toString();
    }
  }
}
