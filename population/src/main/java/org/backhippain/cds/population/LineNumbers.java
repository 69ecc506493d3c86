package org.backhippain.cds.population;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

/**
 * Turns the positions of bad input into what a person looks up: line numbers (1-based) of NDJSON
 * files, from the byte offsets the parallel reader knew (each file with problems is scanned once on
 * the driver, decompressed if gzipped), and entry numbers (1-based) of Bundles.
 */
final class LineNumbers {
  private LineNumbers() {}

  /** {@code file|kind} → the first line (or entry) numbers of that problem in that file. */
  static Map<String, List<Long>> of(InputPlan plan, InputLog.Counts counts, Configuration conf) {
    Map<Integer, TreeSet<Long>> offsetsByFile = new HashMap<>();
    counts.positions.forEach(
        (key, positions) -> {
          int file = Integer.parseInt(key.substring(0, key.indexOf('|')));
          if (file >= 0 && plan.files().get(file).format() == InputPlan.Format.NDJSON) {
            offsetsByFile.computeIfAbsent(file, f -> new TreeSet<>()).addAll(positions);
          }
        });
    Map<Integer, Map<Long, Long>> lineByOffset = new HashMap<>();
    offsetsByFile.forEach(
        (file, offsets) ->
            lineByOffset.put(file, lines(plan.files().get(file).path(), offsets, conf)));
    Map<String, List<Long>> out = new TreeMap<>();
    counts.positions.forEach(
        (key, positions) -> {
          int file = Integer.parseInt(key.substring(0, key.indexOf('|')));
          List<Long> numbers = new ArrayList<>();
          for (long position : positions) {
            if (file < 0 || position < 0) {
              continue;
            }
            Map<Long, Long> lines = lineByOffset.get(file);
            numbers.add(lines == null ? position + 1 : lines.getOrDefault(position, -1L));
          }
          out.put(key, numbers);
        });
    return out;
  }

  private static Map<Long, Long> lines(String file, TreeSet<Long> offsets, Configuration conf) {
    Map<Long, Long> out = new HashMap<>();
    Path path = new Path(file);
    try {
      FileSystem fs = path.getFileSystem(conf);
      CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(path);
      try (InputStream raw = fs.open(path);
          InputStream in = codec == null ? raw : codec.createInputStream(raw)) {
        byte[] buffer = new byte[1 << 16];
        long position = 0;
        long line = 1;
        Long next = offsets.first();
        int n;
        while (next != null && (n = in.read(buffer)) > 0) {
          for (int i = 0; i < n && next != null; i++, position++) {
            while (next != null && next == position) {
              out.put(next, line);
              next = offsets.higher(next);
            }
            if (buffer[i] == '\n') {
              line++;
            }
          }
        }
        if (next != null && next == position) {
          out.put(next, line);
        }
      }
    } catch (IOException | RuntimeException e) {
      // unreadable here too: the report shows the byte offsets' lines as unknown (-1)
    }
    return out;
  }
}
