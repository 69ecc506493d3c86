package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/** The embedded default is a file database: a snooze survives a restart. */
class FeedbackStorageTests {

  static ConfigurableApplicationContext start(Path dir) {
    return SpringApplication.run(
        CdsApplication.class,
        "--server.port=0",
        "--spring.profiles.active=demo",
        "--spring.main.banner-mode=off",
        "--spring.datasource.url=jdbc:h2:file:" + dir.resolve("cds").toAbsolutePath());
  }

  @Test
  void aSnoozeSurvivesARestart() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "h2-");
    ObjectNode request;
    try (ConfigurableApplicationContext app = start(dir)) {
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      request =
          client.prefetched(
              HookClient.request("patient-view", "r12-pos-current"),
              "back-hip-pain-patient-view",
              client.fhirBase());
      JsonNode card = client.post("back-hip-pain-patient-view", request).card("smoking-cessation");
      ObjectNode body = HookClient.JSON.createObjectNode();
      ObjectNode entry = body.putArray("feedback").addObject();
      entry.put("card", card.path("uuid").asText());
      entry.put("outcome", "overridden");
      entry.put("outcomeTimestamp", java.time.OffsetDateTime.now().toString());
      assertThat(client.post("back-hip-pain-patient-view/feedback", body).status()).isEqualTo(200);
    }
    try (ConfigurableApplicationContext app = start(dir)) {
      HookClient client =
          new HookClient(((WebServerApplicationContext) app).getWebServer().getPort());
      assertThat(client.post("back-hip-pain-patient-view", request).ruleIds())
          .doesNotContain("smoking-cessation");
    }
  }
}
