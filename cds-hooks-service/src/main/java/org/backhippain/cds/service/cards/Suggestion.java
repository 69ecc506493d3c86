package org.backhippain.cds.service.cards;

import java.util.List;

/**
 * A card suggestion (§Suggestion): one click applies all its actions. {@code definitionId} (not
 * sent) is the PlanDefinition action it came from, so feedback can find its settings.
 */
public record Suggestion(
    String label,
    String uuid,
    Boolean isRecommended,
    List<SuggestionAction> actions,
    @com.fasterxml.jackson.annotation.JsonIgnore String definitionId) {}
