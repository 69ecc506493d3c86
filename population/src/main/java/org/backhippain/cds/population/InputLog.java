package org.backhippain.cds.population;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.util.AccumulatorV2;

/**
 * What reading the export met, gathered from every task: bad input by file and kind with the first
 * positions of each (byte offsets of NDJSON lines, turned into line numbers on the driver; entry
 * indexes of Bundles), resource types not read, resources filtered out as the prefetch queries
 * filter them. Counts only: never a resource's content.
 */
final class InputLog extends AccumulatorV2<InputLog.Event, InputLog.Counts> {
  /** Positions kept per file and kind of problem. */
  static final int POSITIONS_KEPT = 20;

  static final String MALFORMED = "malformed JSON";
  static final String NO_TYPE = "no resourceType";
  static final String UNKNOWN_TYPE = "unknown resource type";
  static final String NO_ID = "no id";
  static final String NO_PATIENT = "no patient reference";
  static final String NOT_FHIR = "not valid FHIR R4 (HAPI could not read it)";
  static final String UNREADABLE = "unreadable from here on (I/O or compression error)";
  static final String NOT_A_BUNDLE = "not a Bundle";

  /** One thing met: a problem at a position, or a count under a name. */
  record Event(String kind, int file, long position, String name) implements Serializable {
    static Event problem(String kind, int file, long position) {
      return new Event(kind, file, position, null);
    }

    static Event notRead(String type) {
      return new Event(null, -1, -1, "not read|" + type);
    }

    static Event filtered(String type) {
      return new Event(null, -1, -1, "filtered|" + type);
    }

    /** A MedicationRequest names a Medication the export does not hold. */
    static Event medicationNotFound() {
      return new Event(null, -1, -1, "not found|Medication");
    }
  }

  /** The gathered counts; mergeable. */
  static final class Counts implements Serializable {
    /** {@code file|kind} → count. */
    final TreeMap<String, Long> problems = new TreeMap<>();

    /** {@code file|kind} → first positions. */
    final TreeMap<String, List<Long>> positions = new TreeMap<>();

    /** {@code not read|Type}, {@code filtered|Type}, {@code not found|Type} → count. */
    final TreeMap<String, Long> counts = new TreeMap<>();

    void add(Event e) {
      if (e.kind() != null) {
        String key = e.file() + "|" + e.kind();
        problems.merge(key, 1L, Long::sum);
        List<Long> kept = positions.computeIfAbsent(key, k -> new ArrayList<>());
        if (kept.size() < POSITIONS_KEPT) {
          kept.add(e.position());
        }
      } else {
        counts.merge(e.name(), 1L, Long::sum);
      }
    }

    void merge(Counts other) {
      other.problems.forEach((k, v) -> problems.merge(k, v, Long::sum));
      other.counts.forEach((k, v) -> counts.merge(k, v, Long::sum));
      other.positions.forEach(
          (k, v) -> {
            List<Long> kept = positions.computeIfAbsent(k, x -> new ArrayList<>());
            for (Long p : v) {
              if (kept.size() < POSITIONS_KEPT) {
                kept.add(p);
              }
            }
          });
    }

    Counts copy() {
      Counts c = new Counts();
      c.merge(this);
      return c;
    }

    long problemTotal() {
      return problems.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Counts whose name starts with the prefix ({@code not read|}, {@code filtered|}), by type. */
    Map<String, Long> named(String prefix) {
      Map<String, Long> out = new TreeMap<>();
      counts.forEach(
          (k, v) -> {
            if (k.startsWith(prefix + "|")) {
              out.put(k.substring(prefix.length() + 1), v);
            }
          });
      return out;
    }
  }

  private Counts counts = new Counts();

  @Override
  public boolean isZero() {
    return counts.problems.isEmpty() && counts.counts.isEmpty();
  }

  @Override
  public AccumulatorV2<Event, Counts> copy() {
    InputLog log = new InputLog();
    log.counts = counts.copy();
    return log;
  }

  @Override
  public void reset() {
    counts = new Counts();
  }

  @Override
  public void add(Event event) {
    counts.add(event);
  }

  @Override
  public void merge(AccumulatorV2<Event, Counts> other) {
    counts.merge(other.value());
  }

  @Override
  public Counts value() {
    return counts;
  }
}
