package org.backhippain.cds.service;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Keeps every log line the test JVM writes (wired in logback-test.xml), for LogHygieneTests. */
public class CapturedLogs extends AppenderBase<ILoggingEvent> {
  static final List<String> LINES = new CopyOnWriteArrayList<>();

  @Override
  protected void append(ILoggingEvent event) {
    StringBuilder line =
        new StringBuilder(event.getLoggerName()).append(" ").append(event.getFormattedMessage());
    if (event.getThrowableProxy() != null) {
      line.append("\n").append(ThrowableProxyUtil.asString(event.getThrowableProxy()));
    }
    LINES.add(line.toString());
  }
}
