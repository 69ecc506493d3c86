package org.backhippain.cds.service.feedback;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.env.Environment;
import org.springframework.core.env.Profiles;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.stereotype.Component;

/**
 * Patients as the card log and snoozes know them: a keyed hash (HMAC-SHA256) of the patient id,
 * never the id itself. The key is {@value PseudonymKey#PROPERTY} ({@link PseudonymKey}); the same
 * key hashes a patient the same way on every instance and after a restart, another key makes every
 * patient a stranger (their snoozes no longer apply).
 */
@Component
class PatientPseudonyms {
  private static final Logger log = LoggerFactory.getLogger(PatientPseudonyms.class);
  private final PseudonymKey key;
  private final SecretKeySpec hmacKey;

  @Autowired
  PatientPseudonyms(
      @Value("${" + PseudonymKey.PROPERTY + ":}") String configured,
      Environment environment,
      FeedbackStore store) {
    this(
        PseudonymKey.resolve(
            configured,
            environment.acceptsProfiles(Profiles.of("demo")),
            () -> legacyKeyStored(store)));
    if (key.source() == PseudonymKey.Source.EPHEMERAL) {
      log.warn(
          "{} is not set: the demo hashes patients with a random key made at start-up (fingerprint"
              + " {}), so snoozes and the card log's patients are not recognised after a restart;"
              + " set {} to keep them",
          PseudonymKey.PROPERTY,
          key.fingerprint(),
          PseudonymKey.ENVIRONMENT);
    } else {
      log.info(
          "patient pseudonyms keyed by {} (fingerprint {})",
          PseudonymKey.PROPERTY,
          key.fingerprint());
    }
  }

  PatientPseudonyms(PseudonymKey key) {
    this.key = key;
    this.hmacKey = key.hmacKey();
  }

  /** Whether an earlier version's key is in the database: empty when that cannot be told now. */
  private static Optional<Boolean> legacyKeyStored(FeedbackStore store) {
    try {
      return Optional.of(store.legacyPseudonymKey().isPresent());
    } catch (BadSqlGrammarException noTable) {
      return Optional.of(false); // no schema yet: no earlier version ran on this database
    } catch (DataAccessException unreachable) {
      return Optional.empty();
    }
  }

  PseudonymKey key() {
    return key;
  }

  /** The patient's pseudonym: 64 hex digits. */
  String of(String patientId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(hmacKey);
      return HexFormat.of().formatHex(mac.doFinal(patientId.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
