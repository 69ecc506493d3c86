package org.backhippain.cds.service.system;

import ch.qos.logback.classic.pattern.ExtendedThrowableProxyConverter;
import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.CoreConstants;

/**
 * What a caller sends never forges a log line: logback's message and exception converters, replaced
 * in the logging configuration ({@code logback-spring.xml}, and {@code logback-test.xml} for the
 * tests) for every appender, so that no call site has to remember. CR, LF, the other control
 * characters and the Unicode line separators in a message, or in an exception's message, are
 * written as {@code \r}, {@code \n}, {@code \t} or {@code \\uXXXX}; the backslash itself is not
 * escaped (paths and regular expressions stay readable), so an escape sequence cannot be mistaken
 * for a line break either way. Stack traces keep their own line structure.
 */
public final class LogEscaping {
  private LogEscaping() {}

  /** The text with every character that could start or break a line written as an escape. */
  public static String escape(String text) {
    if (text == null) {
      return null;
    }
    int i = 0;
    while (i < text.length() && !needsEscape(text.charAt(i))) {
      i++;
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, i);
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!needsEscape(c)) {
        out.append(c);
      } else if (c == '\r') {
        out.append("\\r");
      } else if (c == '\n') {
        out.append("\\n");
      } else if (c == '\t') {
        out.append("\\t");
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out.toString();
  }

  private static boolean needsEscape(char c) {
    return c < 0x20
        || (c >= 0x7f && c <= 0x9f)
        || c == '\u2028'
        || c == '\u2029'
        || c == '\u200e'
        || c == '\u200f'
        || (c >= '\u202a' && c <= '\u202e')
        || (c >= '\u2066' && c <= '\u2069');
  }

  /** {@code %m}, {@code %msg}, {@code %message}: the formatted message, escaped. */
  public static final class EscapedMessage extends MessageConverter {
    @Override
    public String convert(ILoggingEvent event) {
      return escape(event.getFormattedMessage());
    }
  }

  /**
   * {@code %ex}, {@code %xEx} and their long forms: stack traces as logback writes them (with
   * packaging data), each exception's message escaped.
   */
  public static class EscapedThrowable extends ExtendedThrowableProxyConverter {
    @Override
    protected String throwableProxyToString(IThrowableProxy proxy) {
      return super.throwableProxyToString(new Escaped(proxy));
    }
  }

  /** {@code %wEx}, Spring Boot's exception word: the same, on lines of its own. */
  public static final class EscapedWhitespaceThrowable extends EscapedThrowable {
    @Override
    protected String throwableProxyToString(IThrowableProxy proxy) {
      return CoreConstants.LINE_SEPARATOR
          + super.throwableProxyToString(proxy)
          + CoreConstants.LINE_SEPARATOR;
    }
  }

  /** A throwable as logback sees it, its messages (and its causes' messages) escaped. */
  private record Escaped(IThrowableProxy proxy) implements IThrowableProxy {
    @Override
    public String getMessage() {
      return escape(proxy.getMessage());
    }

    @Override
    public String getClassName() {
      return proxy.getClassName();
    }

    @Override
    public StackTraceElementProxy[] getStackTraceElementProxyArray() {
      return proxy.getStackTraceElementProxyArray();
    }

    @Override
    public int getCommonFrames() {
      return proxy.getCommonFrames();
    }

    @Override
    public IThrowableProxy getCause() {
      return proxy.getCause() == null ? null : new Escaped(proxy.getCause());
    }

    @Override
    public IThrowableProxy[] getSuppressed() {
      IThrowableProxy[] suppressed = proxy.getSuppressed();
      if (suppressed == null) {
        return null;
      }
      IThrowableProxy[] out = new IThrowableProxy[suppressed.length];
      for (int i = 0; i < suppressed.length; i++) {
        out[i] = new Escaped(suppressed[i]);
      }
      return out;
    }

    @Override
    public boolean isCyclic() {
      return proxy.isCyclic();
    }
  }
}
