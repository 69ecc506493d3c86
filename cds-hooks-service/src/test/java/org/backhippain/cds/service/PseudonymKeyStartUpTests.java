package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The patient pseudonym key at start-up ({@code cds.feedback.pseudonym-key}): required outside the
 * demo, checked for format; the demo without one hashes with a random key and says so; a key an
 * earlier version left in the database refuses a start without a configured key and says how to
 * move it; the same configured key (here once as a secret file) keeps a patient's hash and snooze
 * over a restart, another key ends them. No log line and no refusal shows a key.
 */
class PseudonymKeyStartUpTests {
  static final String BASE = "--cds.public-base-url=https://cds.hospital.test";
  static final String NO_KEY = "--cds.feedback.pseudonym-key=";
  static final String DEMO = "--spring.profiles.active=demo";
  static final String PV = "back-hip-pain-patient-view";

  static String newKey() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  /** A fresh in-memory database that outlives each application started on it. */
  static String freshDatabase() {
    return "jdbc:h2:mem:pseudonym-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  }

  static ConfigurableApplicationContext start(String url, String... args) {
    List<String> all = new ArrayList<>();
    all.add("--server.port=0");
    all.add("--spring.main.banner-mode=off");
    all.add("--cds.warm-up.rounds=1");
    all.add("--spring.datasource.url=" + url);
    all.addAll(List.of(args));
    return SpringApplication.run(CdsApplication.class, all.toArray(String[]::new));
  }

  /** The database as an earlier version left it: migrated, its key in service_secret. */
  static JdbcTemplate withStoredKey(String url, String key) {
    DriverManagerDataSource dataSource = new DriverManagerDataSource(url, "sa", "");
    Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
    JdbcTemplate jdbc = new JdbcTemplate(dataSource);
    jdbc.update("INSERT INTO service_secret (name, secret) VALUES ('patient-hash-key', ?)", key);
    return jdbc;
  }

  static String stackTrace(Throwable t) {
    StringWriter text = new StringWriter();
    t.printStackTrace(new PrintWriter(text));
    return text.toString();
  }

  static HookClient client(ConfigurableApplicationContext app) {
    return new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
  }

  static List<String> linesSince(int before) {
    return new ArrayList<>(CapturedLogs.LINES.subList(before, CapturedLogs.LINES.size()));
  }

  static HookClient.Answer override(HookClient client, JsonNode card) {
    ObjectNode body = HookClient.JSON.createObjectNode();
    ObjectNode entry = body.putArray("feedback").addObject();
    entry.put("card", card.path("uuid").asText());
    entry.put("outcome", "overridden");
    entry.put("outcomeTimestamp", java.time.OffsetDateTime.now().toString());
    return client.post(PV + "/feedback", body);
  }

  @Test
  void outsideTheDemoStartUpIsRefusedWithoutAKeyOrWithOneTooShort() {
    assertThatThrownBy(() -> start(freshDatabase(), BASE, NO_KEY))
        .hasStackTraceContaining("cds.feedback.pseudonym-key is required outside the demo profile")
        .hasStackTraceContaining("CDS_FEEDBACK_PSEUDONYM_KEY")
        .hasStackTraceContaining("configtree");
    String tooShort = newKey().substring(0, 62);
    assertThatThrownBy(
            () -> start(freshDatabase(), BASE, "--cds.feedback.pseudonym-key=" + tooShort))
        .hasStackTraceContaining("cds.feedback.pseudonym-key (CDS_FEEDBACK_PSEUDONYM_KEY) is not")
        .hasStackTraceContaining("too short: 31 bytes")
        .satisfies(e -> assertThat(stackTrace(e)).doesNotContain(tooShort));
  }

  @Test
  void theDemoWithoutAKeyHashesWithARandomOneThatARestartForgets() {
    String url = freshDatabase();
    String patient = "pk-demo-" + UUID.randomUUID();
    int before = CapturedLogs.LINES.size();
    try (ConfigurableApplicationContext app = start(url, DEMO, NO_KEY)) {
      HookClient client = client(app);
      JsonNode card =
          client.post(PV, HookClient.smokerWithBackPain(patient)).card("smoking-cessation");
      assertThat(override(client, card).status()).isEqualTo(200);
      assertThat(client.post(PV, HookClient.smokerWithBackPain(patient)).ruleIds())
          .doesNotContain("smoking-cessation");
    }
    assertThat(linesSince(before))
        .anyMatch(
            l ->
                l.startsWith("WARN")
                    && l.contains(
                        "cds.feedback.pseudonym-key is not set: the demo hashes patients"
                            + " with a random key made at start-up"));
    try (ConfigurableApplicationContext app = start(url, DEMO, NO_KEY)) {
      assertThat(client(app).post(PV, HookClient.smokerWithBackPain(patient)).ruleIds())
          .as("the snooze is not recognised after a restart")
          .contains("smoking-cessation");
    }
  }

  @Test
  void aKeyAnEarlierVersionStoredRefusesAStartWithoutAConfiguredKeyAndSaysHowToMoveIt() {
    String stored = newKey();
    String url = freshDatabase();
    withStoredKey(url, stored);
    for (String[] args : List.of(new String[] {DEMO, NO_KEY}, new String[] {BASE, NO_KEY})) {
      assertThatThrownBy(() -> start(url, args))
          .as(String.join(" ", args))
          .hasStackTraceContaining("cds.feedback.pseudonym-key")
          .hasStackTraceContaining("The database holds the key an earlier version")
          .hasStackTraceContaining(
              "SELECT secret FROM service_secret WHERE name = 'patient-hash-key'")
          .hasStackTraceContaining("DELETE FROM service_secret WHERE name = 'patient-hash-key'")
          .satisfies(e -> assertThat(stackTrace(e)).doesNotContain(stored));
    }
  }

  /**
   * An earlier version stored key K1; it is moved into the configuration: first as the property,
   * then as a secret file (configtree): the patient hashes the same way and the snooze holds. Then
   * another key K2: the patient hashes differently, the snooze ends, and the log says why.
   */
  @Test
  void theSameKeyKeepsAPatientsSnoozeOverARestartAndAnotherKeyEndsIt() throws Exception {
    String k1 = newKey();
    String k2 = newKey();
    String url = freshDatabase();
    JdbcTemplate jdbc = withStoredKey(url, k1);
    String patient = "pk-" + UUID.randomUUID();
    int before = CapturedLogs.LINES.size();
    String hash;
    try (ConfigurableApplicationContext app =
        start(url, DEMO, "--cds.feedback.pseudonym-key=" + k1)) {
      HookClient client = client(app);
      JsonNode card =
          client.post(PV, HookClient.smokerWithBackPain(patient)).card("smoking-cessation");
      assertThat(override(client, card).status()).isEqualTo(200);
      hash =
          jdbc.queryForObject(
              "SELECT patient_hash FROM issued_card WHERE card_uuid = ?",
              String.class,
              card.path("uuid").asText());
    }
    assertThat(linesSince(before))
        .anyMatch(
            l ->
                l.startsWith("WARN")
                    && l.contains("is the key an earlier version stored in the database")
                    && l.contains("DELETE FROM service_secret"));

    Path secrets = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "secrets-");
    Files.writeString(secrets.resolve("cds.feedback.pseudonym-key"), k1 + "\n");
    try (ConfigurableApplicationContext app =
        start(url, DEMO, "--spring.config.import=configtree:" + secrets + "/")) {
      assertThat(client(app).post(PV, HookClient.smokerWithBackPain(patient)).ruleIds())
          .as("the same key from a secret file: still snoozed")
          .doesNotContain("smoking-cessation");
    }
    assertThat(jdbc.queryForList("SELECT patient_hash FROM snooze", String.class))
        .containsExactly(hash);

    int beforeK2 = CapturedLogs.LINES.size();
    try (ConfigurableApplicationContext app =
        start(url, DEMO, "--cds.feedback.pseudonym-key=" + k2)) {
      HookClient client = client(app);
      HookClient.Answer answer = client.post(PV, HookClient.smokerWithBackPain(patient));
      assertThat(answer.ruleIds())
          .as("another key: the snooze ended")
          .contains("smoking-cessation");
      assertThat(
              jdbc.queryForObject(
                  "SELECT patient_hash FROM issued_card WHERE card_uuid = ?",
                  String.class,
                  answer.card("smoking-cessation").path("uuid").asText()))
          .isNotEqualTo(hash);
    }
    assertThat(linesSince(beforeK2))
        .anyMatch(
            l ->
                l.startsWith("WARN")
                    && l.contains(
                        "differs from the key an earlier version stored in the database: the"
                            + " snoozes made before end"));
    assertThat(linesSince(before))
        .as("no line shows a key")
        .noneMatch(l -> l.contains(k1) || l.contains(k2));
  }
}
