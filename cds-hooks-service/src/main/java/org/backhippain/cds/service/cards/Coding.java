package org.backhippain.cds.service.cards;

/** A FHIR Coding as CDS Hooks uses it (topic, override reasons). */
public record Coding(String system, String code, String display) {}
