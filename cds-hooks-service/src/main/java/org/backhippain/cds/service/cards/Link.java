package org.backhippain.cds.service.cards;

/** A card link (§Link): {@code absolute} for a web page, {@code smart} for a SMART app. */
public record Link(String label, String url, String type, String appContext) {}
