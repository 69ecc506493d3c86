package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The database failing: down at start-up → started but not ready (one ERROR line naming the cause);
 * merely slow to open → waited for, no alarm, ready as usual; lost while running → hooks still
 * answer, feedback is refused with 503 and nothing is half-written.
 */
class DatabaseFaultTests {

  static ConfigurableApplicationContext start(String url) {
    return SpringApplication.run(
        CdsApplication.class,
        "--server.port=0",
        "--spring.main.banner-mode=off",
        "--spring.profiles.active=demo",
        "--spring.datasource.url=" + url,
        "--cds.demo.shift-dates=true");
  }

  @Test
  void downAtStartUpMeansNotReadyAndTheLogNamesTheCause() {
    int before = CapturedLogs.LINES.size();
    try (ConfigurableApplicationContext app = start("jdbc:h2:tcp://127.0.0.1:9/mem:nowhere")) {
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      var readiness = client.get(client.base() + "/actuator/health/readiness");
      assertThat(readiness.status()).isEqualTo(503);
      assertThat(readiness.raw()).contains("DOWN");
      assertThat(CapturedLogs.LINES.subList(before, CapturedLogs.LINES.size()))
          .anyMatch(
              l ->
                  l.startsWith("ERROR")
                      && l.contains("database unreachable at start-up: Connection refused")
                      && l.contains("NOT READY"));
    }
  }

  /**
   * H2's first connection slower than the pool's 1 s connection timeout (a loaded machine): the
   * first connection is delayed by 2 s. Start-up waits for it: no ERROR, and the service is ready
   * when start-up returns, as usual (before, it logged "database unreachable" and became ready only
   * at the next retry, 5 s later).
   */
  @Test
  void aDatabaseSlowToOpenIsWaitedForWithoutAnAlarm() {
    int before = CapturedLogs.LINES.size();
    SlowFirstConnection.delayed.set(false);
    try (ConfigurableApplicationContext app =
        SpringApplication.run(
            new Class<?>[] {CdsApplication.class, SlowFirstConnection.class},
            new String[] {
              "--server.port=0",
              "--spring.main.banner-mode=off",
              "--spring.profiles.active=demo",
              "--cds.demo.shift-dates=true"
            })) {
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      assertThat(SlowFirstConnection.delayed).as("the first connection was slow").isTrue();
      assertThat(client.get(client.base() + "/actuator/health/readiness").status())
          .as("ready when start-up returns")
          .isEqualTo(200);
      List<String> lines = CapturedLogs.LINES.subList(before, CapturedLogs.LINES.size());
      assertThat(lines).noneMatch(l -> l.startsWith("ERROR"));
      assertThat(lines).noneMatch(l -> l.contains("database unreachable"));
      assertThat(lines).anyMatch(l -> l.contains("database opened after"));
    }
  }

  /**
   * The application's DataSource: HikariCP as configured (1 s connection timeout, start without a
   * connection) over an in-memory H2 whose first connection takes 2 s. Not a {@code @Configuration}
   * (component scanning must not find it): a source of this test's application only.
   */
  static class SlowFirstConnection {
    static final java.util.concurrent.atomic.AtomicBoolean delayed =
        new java.util.concurrent.atomic.AtomicBoolean();

    @org.springframework.context.annotation.Bean
    javax.sql.DataSource dataSource() {
      org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
      h2.setURL("jdbc:h2:mem:slow-" + java.util.UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      h2.setUser("sa");
      com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
      config.setDataSource(
          new org.springframework.jdbc.datasource.DelegatingDataSource(h2) {
            @Override
            public java.sql.Connection getConnection() throws java.sql.SQLException {
              if (delayed.compareAndSet(false, true)) {
                try {
                  Thread.sleep(2_000);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              return super.getConnection();
            }
          });
      config.setConnectionTimeout(1_000);
      config.setInitializationFailTimeout(-1);
      return new com.zaxxer.hikari.HikariDataSource(config);
    }
  }

  @Test
  void lostWhileRunningHooksStillAnswerFeedbackIs503() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "h2tcp-");
    Server server =
        Server.createTcpServer("-tcpPort", "0", "-ifNotExists", "-baseDir", dir.toString()).start();
    String url = "jdbc:h2:tcp://localhost:" + server.getPort() + "/./cds";
    try (ConfigurableApplicationContext app = start(url)) {
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      assertThat(client.get(client.base() + "/actuator/health/readiness").status()).isEqualTo(200);
      ObjectNode hook = HookClient.request("patient-view", "r12-pos-current");
      hook.put("fhirServer", client.fhirBase());
      JsonNode card = client.post("back-hip-pain-patient-view", hook).card("smoking-cessation");
      JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
      Integer feedbackBefore = jdbc.queryForObject("SELECT COUNT(*) FROM feedback", Integer.class);

      server.stop();
      var during = client.post("back-hip-pain-patient-view", hook);
      assertThat(during.status()).isEqualTo(200);
      assertThat(during.ruleIds()).contains("smoking-cessation");
      ObjectNode body = HookClient.JSON.createObjectNode();
      ObjectNode entry = body.putArray("feedback").addObject();
      entry.put("card", card.path("uuid").asText());
      entry.put("outcome", "overridden");
      entry.put("outcomeTimestamp", "2026-06-15T10:00:00Z");
      var refused = client.post("back-hip-pain-patient-view/feedback", body);
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.body().path("error").asText()).isEqualTo("storage_unavailable");
      assertThat(CapturedLogs.LINES).anyMatch(l -> l.contains("feedback store unavailable"));

      server =
          Server.createTcpServer(
                  "-tcpPort",
                  String.valueOf(server.getPort()),
                  "-ifNotExists",
                  "-baseDir",
                  dir.toString())
              .start();
      try (var fresh = java.sql.DriverManager.getConnection(url, "sa", "");
          var rs = fresh.createStatement().executeQuery("SELECT COUNT(*) FROM feedback")) {
        rs.next();
        assertThat(rs.getInt(1)).as("nothing half-written").isEqualTo(feedbackBefore);
      }
    } finally {
      server.stop();
    }
  }
}
