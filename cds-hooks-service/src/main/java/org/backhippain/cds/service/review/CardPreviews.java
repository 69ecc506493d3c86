package org.backhippain.cds.service.review;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import java.util.function.Function;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.cql.RuleResult;
import org.backhippain.cds.service.cards.CardFactory;

/**
 * A rule's card exactly as this service answers it (its CDS Hooks JSON), for the rule book's card
 * preview: the build's rule-book generator (content-build, which cannot depend on the service)
 * loads this class by name and renders what it returns. Links point at a placeholder base.
 */
public final class CardPreviews implements Function<RuleResult, Map<String, Object>> {
  private final CardFactory cards;
  private final ObjectMapper json = new ObjectMapper();

  public CardPreviews(ContentPackage content, RuleEngine engine, FhirContext fhir) {
    this.cards = new CardFactory(content, engine, fhir, "Back & Hip Pain CDS");
  }

  @Override
  public Map<String, Object> apply(RuleResult result) {
    try {
      // Through text: a suggestion's resource is raw JSON, which only a parser turns into a map.
      return json.readValue(
          json.writeValueAsString(cards.card(result, "example-patient", "{service base URL}")),
          new TypeReference<Map<String, Object>>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
