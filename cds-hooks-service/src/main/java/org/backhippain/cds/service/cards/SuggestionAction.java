package org.backhippain.cds.service.cards;

import com.fasterxml.jackson.annotation.JsonRawValue;

/**
 * One action of a suggestion: {@code create} with a FHIR resource, {@code delete} with a {@code
 * resourceId} ({@code Type/id}), or {@code update}. The resource is HAPI's JSON encoding, written
 * into the answer as it is (encoded once, never read back into a tree).
 */
public record SuggestionAction(
    String type, String description, @JsonRawValue String resource, String resourceId) {}
