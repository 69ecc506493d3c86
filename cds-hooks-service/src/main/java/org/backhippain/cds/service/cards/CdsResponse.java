package org.backhippain.cds.service.cards;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The hook answer. {@code cards} is always present, {@code {"cards": []}} when none apply. */
public record CdsResponse(@JsonInclude(JsonInclude.Include.ALWAYS) List<Card> cards) {

  public static CdsResponse empty() {
    return new CdsResponse(List.of());
  }
}
