package org.backhippain.cds.service;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.Layout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Keeps every log event the test JVM writes (wired in logback-test.xml), as its layout writes it —
 * level, logger, message and stack trace through the configuration's escaping converters — for
 * LogHygieneTests and the tests that look for a line.
 */
public class CapturedLogs extends AppenderBase<ILoggingEvent> {
  static final List<String> LINES = new CopyOnWriteArrayList<>();
  private Layout<ILoggingEvent> layout;

  public void setLayout(Layout<ILoggingEvent> layout) {
    this.layout = layout;
  }

  @Override
  protected void append(ILoggingEvent event) {
    String text = layout.doLayout(event);
    LINES.add(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
  }
}
