package org.backhippain.cds.service.feedback;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The hashes that stand for a card's triggering facts in the card log and in snoozes (and the
 * SHA-256 they and the feedback entry hashes are made with).
 */
public final class FactHashes {
  private FactHashes() {}

  /**
   * Hashes of the triggering facts of a rule's card values. A fact is known by what it is, never by
   * how it is shown: {@code type|ref} (the resource, {@code Type/id}), or {@code type|code|date}
   * when it has no id. Display text and computed detail (days covered, how long ago) change from
   * day to day and must not end a snooze. (Hashes stored before this identity was introduced match
   * none of these, so such a snooze ends at its first view.)
   */
  public static Set<String> of(Map<String, Object> cardValues) {
    Set<String> hashes = new LinkedHashSet<>();
    if (cardValues.get("facts") instanceof List<?> facts) {
      for (Object fact : facts) {
        if (fact instanceof Map<?, ?> f) {
          String key =
              f.get("ref") != null
                  ? f.get("type") + "|" + f.get("ref")
                  : f.get("type") + "|" + f.get("code") + "|" + f.get("date");
          hashes.add(sha256(key).substring(0, 16));
        }
      }
    }
    return hashes;
  }

  /** SHA-256 of the text's UTF-8 bytes, as 64 lower-case hex digits. */
  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
