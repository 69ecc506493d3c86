package org.backhippain.cds.service.cards;

/** Card source: the product, the rule's review page, and the rule id as topic. */
public record Source(String label, String url, String icon, Coding topic) {}
