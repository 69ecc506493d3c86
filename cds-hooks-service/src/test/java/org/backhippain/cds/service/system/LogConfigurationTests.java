package org.backhippain.cds.service.system;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production logging configuration ({@code logback-spring.xml}; the suites run on
 * logback-test.xml): a log file when Spring Boot's {@code logging.file.name} sets {@code LOG_FILE},
 * none otherwise, and the escaping converters in both.
 */
class LogConfigurationTests {

  @TempDir Path dir;

  @Test
  void logFileWhenConfiguredWithEscapedLines() throws Exception {
    Path file = dir.resolve("cds.log");
    LoggerContext context = configure(file);
    Logger log = context.getLogger("org.backhippain.cds.test");
    log.info("hookInstance={}", "abc\r\n2026-12-01 ERROR forged");
    context.stop();

    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).contains("hookInstance=abc\\r\\n2026-12-01 ERROR forged");
    assertThat(context.getStatusManager().getCopyOfStatusList())
        .noneMatch(status -> status.getLevel() >= ch.qos.logback.core.status.Status.WARN);
  }

  @Test
  void noLogFileUnlessConfigured() throws Exception {
    LoggerContext context = configure(null);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getAppender("CONSOLE")).isNotNull();
    assertThat(root.getAppender("FILE")).isNull();
    context.stop();
  }

  private static LoggerContext configure(Path logFile) throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    // Spring Boot sets LOG_FILE as a system property from logging.file.name / logging.file.path
    if (logFile != null) {
      System.setProperty("LOG_FILE", logFile.toString());
    }
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogConfigurationTests.class.getResource("/logback-spring.xml"));
      return context;
    } finally {
      System.clearProperty("LOG_FILE");
    }
  }
}
