package org.backhippain.cds.service;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL the storage tests use: {@code CDS_TEST_POSTGRES_URL} (default
 * jdbc:postgresql://localhost:5432/cds_test, user and password cds), each test class in a fresh
 * schema. Without a server the tests are skipped with a reason, unless REQUIRE_POSTGRES is set
 * (CI), when they fail.
 */
public final class TestDatabases {
  public static final String URL =
      env("CDS_TEST_POSTGRES_URL", "jdbc:postgresql://localhost:5432/cds_test");
  public static final String USER = env("CDS_TEST_POSTGRES_USER", "cds");
  public static final String PASSWORD = env("CDS_TEST_POSTGRES_PASSWORD", "cds");

  private TestDatabases() {}

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  /** A JDBC URL to a new, empty schema of the test PostgreSQL; skips the test when none runs. */
  public static String freshPostgresSchema() {
    String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(URL, USER, PASSWORD)) {
      c.createStatement().execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      String reason =
          "SKIPPED: PostgreSQL not reachable at "
              + URL
              + " ("
              + e.getMessage()
              + "); .ci/run installs and starts it";
      System.out.println(reason);
      if (System.getenv("REQUIRE_POSTGRES") != null) {
        throw new AssertionError("REQUIRE_POSTGRES is set but " + reason, e);
      }
      Assumptions.abort(reason);
    }
    return URL + (URL.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }
}
