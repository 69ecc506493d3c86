package org.backhippain.cds.service;

import java.util.List;

/** Read access to the captured log lines for tests in other packages. */
public final class CapturedLogsAccess {
  private CapturedLogsAccess() {}

  public static List<String> lines() {
    return List.copyOf(CapturedLogs.LINES);
  }
}
