package org.backhippain.cds.service.feedback;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.backhippain.cds.service.cards.Card;
import org.backhippain.cds.service.cards.Coding;
import org.backhippain.cds.service.cards.Indicator;
import org.backhippain.cds.service.cards.Suggestion;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.PlanDefinition.PlanDefinitionActionComponent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Acts on CDS Hooks feedback: every card shown is logged (patient as a keyed hash, facts as
 * hashes); an overridden card snoozes its rule for that patient (content setting, default 30 days;
 * critical cards never), an accepted suggestion may silence its rule (content setting); a snooze
 * ends early when a triggering fact appears that the overridden card did not have.
 */
@Service
public class FeedbackService {
  private static final Logger log = LoggerFactory.getLogger(FeedbackService.class);
  static final String SNOOZE_DAYS =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/snooze-days";
  static final String SILENCE_ON_ACCEPT =
      ContentPackage.CANONICAL_BASE + "/StructureDefinition/silence-on-accept-days";
  static final int DEFAULT_SNOOZE_DAYS = 30;

  private final FeedbackStore store;
  private final RuleEngine engine;
  private final Clock clock;
  private final MeterRegistry meters;
  private volatile byte[] patientKey;
  private final TransactionTemplate transactions;

  FeedbackService(
      FeedbackStore store,
      RuleEngine engine,
      Clock clock,
      MeterRegistry meters,
      TransactionTemplate transactions) {
    this.store = store;
    this.engine = engine;
    this.clock = clock;
    this.meters = meters;
    this.transactions = transactions;
  }

  /**
   * Start-up warm-up of {@link #show}: the snooze look-ups and the card-log insert run for a
   * placeholder patient inside a transaction that is rolled back, so nothing is stored.
   *
   * @return false when the store could not be reached (then do not try again: each try waits for
   *     the connection timeout)
   */
  public boolean rehearse(String serviceId, List<Candidate> candidates) {
    try {
      // The patient-hash key is created on first use and must be committed, not rolled back with
      // the rehearsal: every instance and restart has to hash a patient the same way.
      patientHash("warm-up");
      transactions.executeWithoutResult(
          status -> {
            status.setRollbackOnly();
            show(serviceId, "warm-up", candidates);
          });
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** A card about to be shown, with the hashes of the facts that triggered it. */
  public record Candidate(Card card, Set<String> factHashes) {}

  /**
   * Hashes of the triggering facts of a rule's card values. A fact is known by what it is, never by
   * how it is shown: {@code type|ref} (the resource, {@code Type/id}), or {@code type|code|date}
   * when it has no id. Display text and computed detail (days covered, how long ago) change from
   * day to day and must not end a snooze. (Hashes stored before this identity was introduced match
   * none of these, so such a snooze ends at its first view.)
   */
  public static Set<String> factHashes(Map<String, Object> cardValues) {
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

  /**
   * The cards to show after snoozes; records them in the card log. If the database cannot be
   * reached the cards are shown unfiltered and unrecorded, and the log says so.
   */
  public List<Card> show(String serviceId, String patientId, List<Candidate> candidates) {
    if (candidates.isEmpty()) {
      return List.of();
    }
    try {
      String patient = patientHash(patientId);
      Instant now = clock.instant();
      List<Card> shown = new ArrayList<>();
      List<IssuedCard> issued = new ArrayList<>();
      for (Candidate candidate : candidates) {
        Card card = candidate.card();
        if (snoozed(patient, card, candidate.factHashes(), now)) {
          store.recordSnoozeHit(card.ruleId(), now);
          Counter.builder("cds.snoozed").tag("rule", card.ruleId()).register(meters).increment();
          continue;
        }
        shown.add(card);
        issued.add(
            new IssuedCard(
                card.uuid(),
                serviceId,
                card.ruleId(),
                card.indicator().name().toLowerCase(java.util.Locale.ROOT),
                patient,
                candidate.factHashes(),
                suggestions(card),
                reasons(card),
                now));
      }
      store.recordIssued(issued);
      return shown;
    } catch (DataAccessException e) {
      log.error(
          "feedback store unavailable ({}): snoozes not applied, cards not logged",
          e.getClass().getSimpleName());
      return candidates.stream().map(Candidate::card).toList();
    }
  }

  private boolean snoozed(String patient, Card card, Set<String> facts, Instant now) {
    if (card.indicator() == Indicator.CRITICAL) {
      return false;
    }
    Optional<Snooze> snooze = store.snooze(patient, card.ruleId());
    if (snooze.isEmpty() || !snooze.get().until().isAfter(now)) {
      return false;
    }
    if (!snooze.get().factHashes().containsAll(facts)) {
      store.endSnooze(patient, card.ruleId());
      log.info("snooze of {} ended early: a new triggering fact", card.ruleId());
      return false;
    }
    return true;
  }

  private static Map<String, String> suggestions(Card card) {
    Map<String, String> map = new java.util.LinkedHashMap<>();
    if (card.suggestions() != null) {
      for (Suggestion s : card.suggestions()) {
        map.put(s.uuid(), s.definitionId());
      }
    }
    return map;
  }

  private static Set<String> reasons(Card card) {
    Set<String> codes = new LinkedHashSet<>();
    if (card.overrideReasons() != null) {
      card.overrideReasons().stream().map(Coding::code).forEach(codes::add);
    }
    return codes;
  }

  /** One rejected feedback entry. */
  public record EntryError(int index, List<String> errors) {}

  /**
   * Validates a feedback batch (CDS Hooks §Feedback) and stores it only if every entry is valid.
   * The cost is linear in the entries: the cards they name are read in one query per hundred, the
   * batch is written in one short transaction ({@link FeedbackStore#store}).
   *
   * @return the per-entry errors; empty when the batch was stored
   */
  public List<EntryError> receive(String serviceId, JsonNode body) {
    JsonNode entries = body == null ? null : body.get("feedback");
    if (entries == null || !entries.isArray() || entries.isEmpty()) {
      return List.of(new EntryError(-1, List.of("'feedback' must be a non-empty array")));
    }
    Instant now = clock.instant();
    List<String> cardIds = new ArrayList<>();
    entries.forEach(entry -> cardIds.add(entry.path("card").asText("")));
    Map<String, IssuedCard> issued =
        store.issued(cardIds.stream().filter(id -> !id.isBlank()).toList());
    List<EntryError> errors = new ArrayList<>();
    List<FeedbackStore.StoredFeedback> stored = new ArrayList<>();
    List<Snooze> snoozes = new ArrayList<>();
    List<String[]> counted = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      List<String> problems = new ArrayList<>();
      Optional<IssuedCard> card = Optional.empty();
      String cardId = cardIds.get(i);
      if (cardId.isBlank()) {
        problems.add("'card' (the card uuid) is required");
      } else {
        card = Optional.ofNullable(issued.get(cardId)).filter(c -> c.serviceId().equals(serviceId));
        if (card.isEmpty()) {
          problems.add("card " + shown(cardId) + " was not issued by this service");
        }
      }
      String outcome = entry.path("outcome").asText("");
      if (!outcome.equals("accepted") && !outcome.equals("overridden")) {
        problems.add("'outcome' must be accepted or overridden");
      }
      List<String> accepted = new ArrayList<>();
      entry.path("acceptedSuggestions").forEach(s -> accepted.add(s.path("id").asText("")));
      if (outcome.equals("accepted") && accepted.isEmpty()) {
        problems.add("an accepted outcome needs 'acceptedSuggestions'");
      }
      String reason = null;
      JsonNode reasonNode = entry.path("overrideReason").path("reason");
      if (!reasonNode.isMissingNode()) {
        reason = reasonNode.path("code").asText("");
        String system = reasonNode.path("system").asText(ContentPackage.OVERRIDE_REASON_SYSTEM);
        if (!ContentPackage.OVERRIDE_REASON_SYSTEM.equals(system)) {
          problems.add("override reason system is not the card's");
        }
      }
      Instant timestamp = null;
      try {
        timestamp = OffsetDateTime.parse(entry.path("outcomeTimestamp").asText("")).toInstant();
      } catch (DateTimeParseException e) {
        problems.add("'outcomeTimestamp' must be an RFC 3339 date-time with offset");
      }
      if (card.isPresent()) {
        IssuedCard c = card.get();
        for (String id : accepted) {
          if (!c.suggestions().containsKey(id)) {
            problems.add("suggestion " + shown(id) + " does not belong to the card");
          }
        }
        if (reason != null && !c.overrideReasons().contains(reason)) {
          problems.add("override reason " + shown(reason) + " is not one of the card's");
        }
      }
      if (!problems.isEmpty()) {
        errors.add(new EntryError(i, problems));
        continue;
      }
      IssuedCard c = card.orElseThrow();
      String hash =
          sha256(c.cardUuid() + "|" + outcome + "|" + reason + "|" + accepted + "|" + timestamp);
      stored.add(
          new FeedbackStore.StoredFeedback(
              hash, c.cardUuid(), outcome, reason, String.join(",", accepted), timestamp, now));
      snoozes.addAll(snoozesFor(c, outcome, accepted, now));
      counted.add(new String[] {c.ruleId(), outcome, reason == null ? "none" : reason});
    }
    if (errors.isEmpty()) {
      store.store(stored, snoozes);
      for (String[] c : counted) {
        Counter.builder("cds.feedback")
            .tag("rule", c[0])
            .tag("outcome", c[1])
            .tag("reason", c[2])
            .register(meters)
            .increment();
      }
      log.info("feedback stored: {} entries, {} snoozes", stored.size(), snoozes.size());
    }
    return errors;
  }

  /** A caller's value quoted in an entry error: at most 64 characters. */
  private static String shown(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }

  private List<Snooze> snoozesFor(
      IssuedCard card, String outcome, List<String> accepted, Instant now) {
    Optional<RuleDefinition> rule = engine.catalog().rule(card.ruleId());
    if (rule.isEmpty()) {
      return List.of();
    }
    List<Snooze> out = new ArrayList<>();
    if (outcome.equals("overridden") && !card.indicator().equals("critical")) {
      int days = intExtension(rule.get().action(), SNOOZE_DAYS).orElse(DEFAULT_SNOOZE_DAYS);
      out.add(
          new Snooze(
              card.patientHash(),
              card.ruleId(),
              now.plus(Duration.ofDays(days)),
              card.factHashes(),
              "overridden"));
    }
    if (outcome.equals("accepted")) {
      for (String id : accepted) {
        String definition = card.suggestions().get(id);
        rule.get().action().getAction().stream()
            .filter(a -> a.getId() != null && a.getId().equals(definition))
            .findFirst()
            .flatMap(a -> intExtension(a, SILENCE_ON_ACCEPT))
            .ifPresent(
                days ->
                    out.add(
                        new Snooze(
                            card.patientHash(),
                            card.ruleId(),
                            now.plus(Duration.ofDays(days)),
                            card.factHashes(),
                            "accepted")));
      }
    }
    return out;
  }

  private static Optional<Integer> intExtension(PlanDefinitionActionComponent action, String url) {
    var extension = action.getExtensionByUrl(url);
    return extension != null && extension.getValue() instanceof IntegerType i
        ? Optional.of(i.getValue())
        : Optional.empty();
  }

  private String patientHash(String patientId) {
    if (patientKey == null) {
      patientKey = HexFormat.of().parseHex(store.secret("patient-hash-key"));
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(patientKey, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(patientId.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

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
