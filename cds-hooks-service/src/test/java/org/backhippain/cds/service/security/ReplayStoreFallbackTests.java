package org.backhippain.cds.service.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Clock;
import java.time.Instant;
import org.backhippain.cds.service.CapturedLogsAccess;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/** With the database unreachable, jti checks fall back to this instance's memory, and say so. */
class ReplayStoreFallbackTests {

  @Test
  void anUnreachableDatabaseFallsBackToMemoryAndLogsIt() {
    try (HikariDataSource dead = new HikariDataSource()) {
      dead.setJdbcUrl("jdbc:h2:tcp://127.0.0.1:9/mem:nowhere");
      dead.setConnectionTimeout(250);
      dead.setInitializationFailTimeout(-1);
      var replays =
          new JdbcReplayStore(
              new JdbcTemplate(dead),
              new InMemoryReplayStore(Clock.systemUTC()),
              Clock.systemUTC());
      Instant later = Instant.now().plusSeconds(300);
      assertThat(replays.firstUse("https://ehr", "jti-x", later)).isTrue();
      assertThat(replays.firstUse("https://ehr", "jti-x", later))
          .as("refused from memory")
          .isFalse();
      assertThat(CapturedLogsAccess.lines())
          .anyMatch(l -> l.contains("jti checks fall back to this instance's memory"));
    }
  }
}
