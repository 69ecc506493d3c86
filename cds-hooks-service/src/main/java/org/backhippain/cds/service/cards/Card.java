package org.backhippain.cds.service.cards;

import java.util.List;

/**
 * A CDS Hooks card (§CDS Service Response). Optional fields are null or empty and omitted from the
 * JSON. {@code ruleId} is not part of the wire format; it is {@code source.topic.code}.
 */
public record Card(
    String uuid,
    String summary,
    String detail,
    Indicator indicator,
    Source source,
    List<Suggestion> suggestions,
    String selectionBehavior,
    List<Coding> overrideReasons,
    List<Link> links) {

  public String ruleId() {
    return source.topic().code();
  }
}
