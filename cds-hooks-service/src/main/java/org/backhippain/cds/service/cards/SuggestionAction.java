package org.backhippain.cds.service.cards;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One action of a suggestion: {@code create} with a FHIR resource, {@code delete} with a {@code
 * resourceId} ({@code Type/id}), or {@code update}.
 */
public record SuggestionAction(
    String type, String description, JsonNode resource, String resourceId) {}
