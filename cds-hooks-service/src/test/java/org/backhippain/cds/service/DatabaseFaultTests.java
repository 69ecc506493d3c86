package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The database failing: down at start-up → started but not ready (one clear log line); lost while
 * running → hooks still answer, feedback is refused with 503 and nothing is half-written.
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
  void downAtStartUpMeansNotReady() {
    try (ConfigurableApplicationContext app = start("jdbc:h2:tcp://127.0.0.1:9/mem:nowhere")) {
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      var readiness = client.get(client.base() + "/actuator/health/readiness");
      assertThat(readiness.status()).isEqualTo(503);
      assertThat(readiness.raw()).contains("DOWN");
      assertThat(CapturedLogs.LINES)
          .anyMatch(l -> l.contains("database unreachable at start-up") && l.contains("NOT READY"));
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
