package org.backhippain.cds.bench;

import java.util.Locale;

/**
 * The targets, one line each in a form {@code benchmarks/run} collects for its closing
 * "Targets" block: {@code TARGET <name> | <figure> | <target> | ✔ or ✘} ({@code –} when the figure
 * could not be checked, e.g. an endpoint this service does not have).
 */
final class Targets {
  private Targets() {}

  static void print(String name, String figure, String target, boolean met) {
    line(name, figure, target, met ? "✔" : "✘");
  }

  static void unchecked(String name, String figure, String target) {
    line(name, figure, target, "–");
  }

  /** {@code value ≤ limit}, both printed with {@code format}. */
  static void atMost(String name, String format, double value, double limit) {
    print(name, fmt(format, value), "≤ " + fmt(format, limit), value <= limit);
  }

  /** {@code value ≥ limit}, both printed with {@code format}. */
  static void atLeast(String name, String format, double value, double limit) {
    print(name, fmt(format, value), "≥ " + fmt(format, limit), value >= limit);
  }

  static String fmt(String format, Object... values) {
    return String.format(Locale.ROOT, format, values);
  }

  private static void line(String name, String figure, String target, String mark) {
    System.out.printf("TARGET %s | %s | %s | %s%n", name, figure, target, mark);
  }
}
