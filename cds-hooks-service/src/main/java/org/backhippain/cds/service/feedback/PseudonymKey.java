package org.backhippain.cds.service.feedback;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The key of the patient pseudonyms, {@value #PROPERTY}: kept in the configuration (environment
 * variable {@value #ENVIRONMENT}, or a secret file through Spring's {@code configtree}), never in
 * the database beside the hashes it keys. Required, except in the {@code demo} profile, which
 * without one makes a random key for this process. Format: at least {@value #MIN_BYTES} bytes,
 * written as hex (a value of hex digits only) or else as base64 (standard or URL-safe alphabet,
 * padding optional). The key itself is never logged nor put into a message.
 */
final class PseudonymKey {
  static final String PROPERTY = "cds.feedback.pseudonym-key";
  static final String ENVIRONMENT = "CDS_FEEDBACK_PSEUDONYM_KEY";
  static final int MIN_BYTES = 32;
  static final String FORMAT =
      "at least "
          + MIN_BYTES
          + " bytes, written as hex (64 or more hex digits) or base64 (44 or more characters);"
          + " make one with: openssl rand -hex 32";
  private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");

  /** Where the key came from. */
  enum Source {
    /** {@value #PROPERTY}. */
    CONFIGURED,
    /** Made at random for this process (demo profile, nothing configured). */
    EPHEMERAL
  }

  private final byte[] bytes;
  private final Source source;

  private PseudonymKey(byte[] bytes, Source source) {
    this.bytes = bytes;
    this.source = source;
  }

  /**
   * The key for this process: the configured one, else (demo only) a random one.
   *
   * @param configured the value of {@value #PROPERTY}; null or blank when not set
   * @param legacyKeyStored whether the database holds a key an earlier version stored there (empty
   *     when that cannot be told); asked only to explain a refusal
   * @throws IllegalStateException naming the property when the configured value is not a valid key,
   *     or when none is configured outside the demo profile
   */
  static PseudonymKey resolve(
      String configured, boolean demo, Supplier<Optional<Boolean>> legacyKeyStored) {
    if (configured != null && !configured.isBlank()) {
      return parse(configured);
    }
    if (demo) {
      return ephemeral();
    }
    throw new IllegalStateException(
        PROPERTY
            + " is required outside the demo profile: the key of the patient pseudonyms in the"
            + " card log and snoozes ("
            + FORMAT
            + "). Set it on every instance, the same value everywhere: environment variable "
            + ENVIRONMENT
            + ", or a secret file named "
            + PROPERTY
            + " in a directory imported with spring.config.import=configtree:<directory>/. "
            + LegacyPseudonymKey.upgradeAdvice(legacyKeyStored.get()));
  }

  /** The key written in {@value #PROPERTY}; the message of a refusal never holds the value. */
  static PseudonymKey parse(String text) {
    String value = text.strip();
    byte[] decoded;
    if (HEX.matcher(value).matches()) {
      if (value.length() % 2 != 0) {
        throw invalid("it has an odd number of hex digits (" + value.length() + ")");
      }
      decoded = HexFormat.of().parseHex(value);
    } else {
      try {
        decoded =
            value.indexOf('-') >= 0 || value.indexOf('_') >= 0
                ? Base64.getUrlDecoder().decode(value)
                : Base64.getDecoder().decode(value);
      } catch (IllegalArgumentException e) {
        throw invalid("it is neither hex nor base64");
      }
    }
    if (decoded.length < MIN_BYTES) {
      throw invalid("it is too short: " + decoded.length + " bytes");
    }
    return new PseudonymKey(decoded, Source.CONFIGURED);
  }

  private static IllegalStateException invalid(String why) {
    return new IllegalStateException(
        PROPERTY + " (" + ENVIRONMENT + ") is not a usable key: " + why + "; it must be " + FORMAT);
  }

  /** A random key of {@value #MIN_BYTES} bytes, for this process only. */
  static PseudonymKey ephemeral() {
    byte[] bytes = new byte[MIN_BYTES];
    new SecureRandom().nextBytes(bytes);
    return new PseudonymKey(bytes, Source.EPHEMERAL);
  }

  Source source() {
    return source;
  }

  /** The key as the HMAC-SHA256 key of the pseudonyms. */
  SecretKeySpec hmacKey() {
    return new SecretKeySpec(bytes, "HmacSHA256");
  }

  /**
   * Whether a key stored in hex (as earlier versions stored theirs) is this key: the same key makes
   * the same pseudonyms. Compared in constant time.
   */
  boolean sameAs(String storedHex) {
    try {
      return MessageDigest.isEqual(bytes, HexFormat.of().parseHex(storedHex.strip()));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Eight hex digits that tell keys apart without revealing them (an HMAC of a fixed text under the
   * key): instances whose log shows the same fingerprint hash patients the same way.
   */
  String fingerprint() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(hmacKey());
      byte[] tag = mac.doFinal("pseudonym-key-fingerprint".getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(tag, 0, 4);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public String toString() {
    return "PseudonymKey[" + source + ", fingerprint " + fingerprint() + "]";
  }
}
