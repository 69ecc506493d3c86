package org.backhippain.cds.service.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * The pseudonym key's format ({@code cds.feedback.pseudonym-key}: at least 32 bytes, hex or
 * base64), the demo's random key, and what each key does to a patient's pseudonym. No message holds
 * the key.
 */
class PseudonymKeyTests {
  static final byte[] BYTES = random(32);
  static final String HEX = HexFormat.of().formatHex(BYTES);

  static byte[] random(int n) {
    byte[] bytes = new byte[n];
    new SecureRandom().nextBytes(bytes);
    return bytes;
  }

  static String pseudonym(String configured, String patient) {
    return new PatientPseudonyms(PseudonymKey.parse(configured)).of(patient);
  }

  @Test
  void hexAndBase64OfTheSameBytesAreTheSameKey() {
    String expected = pseudonym(HEX, "patient-1");
    assertThat(expected).hasSize(64).isNotEqualTo(pseudonym(HEX, "patient-2"));
    assertThat(pseudonym(HEX.toUpperCase(java.util.Locale.ROOT), "patient-1")).isEqualTo(expected);
    assertThat(pseudonym("  " + HEX + "\n", "patient-1"))
        .as("a secret file's trailing line break")
        .isEqualTo(expected);
    assertThat(pseudonym(Base64.getEncoder().encodeToString(BYTES), "patient-1"))
        .isEqualTo(expected);
    assertThat(pseudonym(Base64.getEncoder().withoutPadding().encodeToString(BYTES), "patient-1"))
        .isEqualTo(expected);
    byte[] urlSafe = BYTES.clone();
    urlSafe[0] = (byte) 0xfb; // encodes to '-' or '_' in the URL-safe alphabet
    urlSafe[1] = (byte) 0xff;
    assertThat(pseudonym(Base64.getUrlEncoder().encodeToString(urlSafe), "patient-1"))
        .isEqualTo(pseudonym(HexFormat.of().formatHex(urlSafe), "patient-1"));
  }

  @Test
  void longerKeysAreAcceptedAndAnotherKeyMakesAnotherPseudonym() {
    String longer = HexFormat.of().formatHex(random(64));
    assertThat(pseudonym(longer, "patient-1")).isNotEqualTo(pseudonym(HEX, "patient-1"));
  }

  @Test
  void aKeyTooShortOrMalformedIsRefusedWithoutShowingIt() {
    String short31 = HexFormat.of().formatHex(random(31));
    assertThatThrownBy(() -> PseudonymKey.parse(short31))
        .hasMessageContaining("cds.feedback.pseudonym-key")
        .hasMessageContaining("too short: 31 bytes")
        .hasMessageContaining("at least 32 bytes")
        .hasMessageNotContaining(short31);
    String shortBase64 = Base64.getEncoder().encodeToString(random(24));
    assertThatThrownBy(() -> PseudonymKey.parse(shortBase64))
        .hasMessageContaining("too short: 24 bytes")
        .hasMessageNotContaining(shortBase64);
    String odd = HEX + "a";
    assertThatThrownBy(() -> PseudonymKey.parse(odd))
        .hasMessageContaining("odd number of hex digits")
        .hasMessageNotContaining(odd);
    String neither = "correct horse battery staple, a passphrase not a key";
    assertThatThrownBy(() -> PseudonymKey.parse(neither))
        .hasMessageContaining("neither hex nor base64")
        .hasMessageNotContaining("horse");
  }

  @Test
  void withoutAKeyOnlyTheDemoStartsWithARandomOne() {
    assertThatThrownBy(() -> PseudonymKey.resolve("", false, () -> Optional.of(false)))
        .hasMessageContaining("cds.feedback.pseudonym-key is required outside the demo profile")
        .hasMessageContaining("CDS_FEEDBACK_PSEUDONYM_KEY")
        .hasMessageContaining("spring.config.import=configtree:")
        .hasMessageNotContaining("service_secret");
    assertThatThrownBy(() -> PseudonymKey.resolve(null, false, () -> Optional.of(true)))
        .hasMessageContaining("The database holds the key an earlier version")
        .hasMessageContaining("SELECT secret FROM service_secret WHERE name = 'patient-hash-key'")
        .hasMessageContaining("DELETE FROM service_secret WHERE name = 'patient-hash-key'");
    assertThatThrownBy(() -> PseudonymKey.resolve(" ", false, Optional::empty))
        .hasMessageContaining("Upgrading? If an earlier version")
        .hasMessageContaining("SELECT secret FROM service_secret");

    PseudonymKey demo = PseudonymKey.resolve("", true, Optional::empty);
    PseudonymKey restarted = PseudonymKey.resolve("", true, Optional::empty);
    assertThat(demo.source()).isEqualTo(PseudonymKey.Source.EPHEMERAL);
    assertThat(new PatientPseudonyms(demo).of("patient-1"))
        .as("after a restart the demo's patients are strangers")
        .isNotEqualTo(new PatientPseudonyms(restarted).of("patient-1"));
    assertThat(PseudonymKey.resolve(HEX, true, Optional::empty).source())
        .as("a configured key counts in the demo too")
        .isEqualTo(PseudonymKey.Source.CONFIGURED);
  }

  @Test
  void aStoredHexKeyIsRecognisedAndTheKeyIsNeverPrinted() {
    PseudonymKey key = PseudonymKey.parse(HEX);
    assertThat(key.sameAs(HEX)).isTrue();
    assertThat(key.sameAs(HexFormat.of().formatHex(random(32)))).isFalse();
    assertThat(key.sameAs("not hex")).isFalse();
    assertThat(key.toString()).doesNotContain(HEX).contains(key.fingerprint());
    assertThat(key.fingerprint()).hasSize(8).isNotEqualTo(PseudonymKey.ephemeral().fingerprint());
  }

  /**
   * {@code CDS_FEEDBACK_PSEUDONYM_KEY} reaches {@code @Value("${cds.feedback.pseudonym-key:}")}.
   */
  @Test
  void theEnvironmentVariableIsThePropertyByRelaxedBinding() {
    StandardEnvironment environment = new StandardEnvironment();
    Map<String, Object> variables = new HashMap<>(System.getenv());
    variables.put("CDS_FEEDBACK_PSEUDONYM_KEY", HEX);
    environment
        .getPropertySources()
        .replace(
            StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
            new SystemEnvironmentPropertySource(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));
    ConfigurationPropertySources.attach(environment);
    assertThat(environment.resolvePlaceholders("${" + PseudonymKey.PROPERTY + ":}")).isEqualTo(HEX);
  }
}
