package org.backhippain.cds.service.feedback;

/** The storage contract on the embedded default (H2). */
class H2StorageTests extends StorageContract {
  @Override
  String jdbcUrl() {
    return "jdbc:h2:mem:storage-" + java.util.UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
  }
}
