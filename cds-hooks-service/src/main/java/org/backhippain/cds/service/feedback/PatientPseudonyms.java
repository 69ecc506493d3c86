package org.backhippain.cds.service.feedback;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.stereotype.Component;

/**
 * Patients as the card log and snoozes know them: a keyed hash (HMAC-SHA256) of the patient id,
 * never the id itself. The same key hashes a patient the same way on every instance and after a
 * restart; another key makes every patient a stranger (their snoozes no longer apply).
 */
@Component
class PatientPseudonyms {
  private final FeedbackStore store;
  private volatile byte[] key;

  PatientPseudonyms(FeedbackStore store) {
    this.store = store;
  }

  /** The patient's pseudonym: 64 hex digits. */
  String of(String patientId) {
    if (key == null) {
      key = HexFormat.of().parseHex(store.secret("patient-hash-key"));
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(patientId.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
