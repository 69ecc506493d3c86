package org.backhippain.cds.service.feedback;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Component;

/**
 * The patient pseudonym key that earlier versions created and kept in the database (row {@value
 * #ROW} of table {@code service_secret}), beside the hashes it keys. The service no longer creates
 * nor reads it as its key; at start-up, right after the migrations, it looks whether the row is
 * still there:
 *
 * <ul>
 *   <li>no key configured (the demo's random key): start-up is refused with how to move the stored
 *       key into {@value PseudonymKey#PROPERTY} — the snoozes and the card log's patients depend on
 *       it — or to delete it and start afresh;
 *   <li>the configured key is the stored one: a warning to delete the row once every instance runs
 *       with the configured key;
 *   <li>the configured key differs: a warning that the snoozes made under the stored key end (their
 *       patients now hash differently), and how to keep them instead. The configured key is used.
 * </ul>
 *
 * The stored key itself is never logged. A database unreachable at start-up is not looked at.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1) // after DatabaseMigration, before the warm-up
class LegacyPseudonymKey implements ApplicationRunner {
  private static final Logger log = LoggerFactory.getLogger(LegacyPseudonymKey.class);
  static final String ROW = "patient-hash-key";
  static final String SELECT = "SELECT secret FROM service_secret WHERE name = '" + ROW + "'";
  static final String DELETE = "DELETE FROM service_secret WHERE name = '" + ROW + "'";

  private final FeedbackStore store;
  private final PatientPseudonyms pseudonyms;

  LegacyPseudonymKey(FeedbackStore store, PatientPseudonyms pseudonyms) {
    this.store = store;
    this.pseudonyms = pseudonyms;
  }

  @Override
  public void run(ApplicationArguments args) {
    PseudonymKey key = pseudonyms.key();
    Optional<String> stored;
    try {
      stored = store.legacyPseudonymKey();
    } catch (DataAccessException e) {
      if (key.source() == PseudonymKey.Source.EPHEMERAL) {
        log.warn(
            "database unavailable at start-up ({}): not checked for a pseudonym key an earlier"
                + " version stored there",
            e.getClass().getSimpleName());
      }
      return;
    }
    if (stored.isEmpty()) {
      return;
    }
    if (key.source() == PseudonymKey.Source.EPHEMERAL) {
      throw new IllegalStateException(
          PseudonymKey.PROPERTY + " is not set. " + upgradeAdvice(Optional.of(true)));
    }
    if (key.sameAs(stored.get())) {
      log.warn(
          "{} is the key an earlier version stored in the database, which still holds it beside the"
              + " hashes it keys: once every instance runs with {} set, delete it: {}",
          PseudonymKey.PROPERTY,
          PseudonymKey.PROPERTY,
          DELETE);
    } else {
      log.warn(
          "{} differs from the key an earlier version stored in the database: the snoozes made"
              + " before end (their patients now hash differently) and the card log's earlier"
              + " patients are not recognised. To keep them, set {} to the stored key ({}) on every"
              + " instance; otherwise delete it: {}",
          PseudonymKey.PROPERTY,
          PseudonymKey.PROPERTY,
          SELECT,
          DELETE);
    }
  }

  /**
   * What to do with the key an earlier version stored, for a start-up refused for want of a
   * configured key.
   *
   * @param stored whether the database holds one; empty when that could not be told
   */
  static String upgradeAdvice(Optional<Boolean> stored) {
    String move =
        "move it into the configuration so that existing snoozes and the card log's patients stay"
            + " recognised: (1) read it: "
            + SELECT
            + "; (2) set that value (64 hex digits) as "
            + PseudonymKey.PROPERTY
            + " ("
            + PseudonymKey.ENVIRONMENT
            + ", or a configtree secret file) on every instance; (3) once every instance runs"
            + " with it, delete it from the database: "
            + DELETE
            + ". To start afresh instead (existing snoozes end), delete it (and, outside the demo, set"
            + " a new key).";
    if (stored.isEmpty()) {
      return "Upgrading? If an earlier version of this service ran on this database, it kept its"
          + " key there (the database could not be read now to tell): "
          + move;
    }
    if (stored.get()) {
      return "The database holds the key an earlier version of this service kept there (table"
          + " service_secret); the service no longer keeps its key in the database: "
          + move;
    }
    return "";
  }
}
