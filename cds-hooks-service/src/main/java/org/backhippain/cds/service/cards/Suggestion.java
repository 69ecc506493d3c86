package org.backhippain.cds.service.cards;

import java.util.List;

/** A card suggestion (§Suggestion): one click applies all its actions. */
public record Suggestion(
    String label, String uuid, Boolean isRecommended, List<SuggestionAction> actions) {}
