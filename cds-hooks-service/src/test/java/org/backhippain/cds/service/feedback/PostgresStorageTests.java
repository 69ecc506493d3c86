package org.backhippain.cds.service.feedback;

import org.backhippain.cds.service.TestDatabases;

/** The same storage contract on PostgreSQL (the production choice). */
class PostgresStorageTests extends StorageContract {
  @Override
  String jdbcUrl() {
    return TestDatabases.freshPostgresSchema();
  }

  @Override
  String user() {
    return TestDatabases.USER;
  }

  @Override
  String password() {
    return TestDatabases.PASSWORD;
  }
}
