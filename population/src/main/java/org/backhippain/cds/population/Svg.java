package org.backhippain.cds.population;

import java.util.List;
import java.util.Locale;

/** Horizontal bar charts as inline SVG: no script, no CDN, readable offline and in print. */
final class Svg {
  static final String CRITICAL = "#b71c1c";
  static final String WARNING = "#e65100";
  static final String INFO = "#1565c0";
  static final String MUTED = "#90a4ae";
  static final String GOOD = "#2e7d32";

  private static final int WIDTH = 760;
  private static final int LABEL = 260;
  private static final int VALUE = 150;
  private static final int ROW = 24;

  private Svg() {}

  /** One bar: its label, length, colour and the text printed after it. */
  record Bar(String label, double value, String color, String text) {}

  static String bars(String testId, String title, List<Bar> bars) {
    double max = bars.stream().mapToDouble(Bar::value).max().orElse(0);
    int height = ROW * Math.max(1, bars.size()) + 30;
    int plot = WIDTH - LABEL - VALUE;
    StringBuilder svg = new StringBuilder();
    svg.append(
        String.format(
            Locale.ROOT,
            "<svg data-testid=\"%s\" class=\"chart\" role=\"img\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\"><title>%s</title>",
            testId,
            WIDTH,
            height,
            WIDTH,
            height,
            Report.Html.escape(title)));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"0\" y=\"16\" class=\"chart-title\">%s</text>",
            Report.Html.escape(title)));
    int y = 30;
    for (Bar bar : bars) {
      double length = max <= 0 ? 0 : bar.value() / max * plot;
      svg.append(
          String.format(
              Locale.ROOT,
              "<g class=\"bar\"><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
                  + "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                  + "<text x=\"%.1f\" y=\"%d\" class=\"value\">%s</text></g>",
              LABEL - 8,
              y + 15,
              Report.Html.escape(bar.label()),
              LABEL,
              y + 3,
              Math.max(length, bar.value() > 0 ? 1.5 : 0),
              ROW - 6,
              bar.color(),
              LABEL + length + 6,
              y + 15,
              Report.Html.escape(bar.text())));
      y += ROW;
    }
    if (bars.isEmpty()) {
      svg.append(
          String.format(
              Locale.ROOT, "<text x=\"%d\" y=\"%d\">nothing to show</text>", LABEL, y + 15));
    }
    return svg.append("</svg>").toString();
  }

  static String indicatorColor(String indicator) {
    return switch (indicator) {
      case "critical" -> CRITICAL;
      case "warning" -> WARNING;
      default -> INFO;
    };
  }
}
