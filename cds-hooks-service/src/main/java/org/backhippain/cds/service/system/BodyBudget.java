package org.backhippain.cds.service.system;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * How many bytes of request bodies may be in progress at once: {@code cds.body-heap-share} of the
 * maximum heap divided by {@code cds.body-cost-factor} (the heap one body byte occupies once parsed
 * and evaluated, measured with Synthea patients; see the README's Performance section). Permits are
 * kibibytes.
 */
@Component
public class BodyBudget {
  private static final Logger log = LoggerFactory.getLogger(BodyBudget.class);
  private static final int KIB = 1024;

  private final long bytes;
  private final Semaphore permits;
  private final long waitNanos;

  @Autowired
  public BodyBudget(CdsProperties properties) {
    this(
        (long)
            (Runtime.getRuntime().maxMemory()
                * properties.bodyHeapShare()
                / properties.bodyCostFactor()),
        properties.overloadWait());
    log.info(
        "request-body budget {} KiB ({} of a {} MiB heap at {} heap bytes per body byte);"
            + " body size limit {} KiB",
        bytes / KIB,
        properties.bodyHeapShare(),
        Runtime.getRuntime().maxMemory() / KIB / KIB,
        properties.bodyCostFactor(),
        Math.min(bytes, properties.maxRequestBytes().toBytes()) / KIB);
  }

  BodyBudget(long bytes, Duration wait) {
    this.bytes = Math.max(bytes, KIB);
    this.permits = new Semaphore((int) Math.min(Integer.MAX_VALUE, this.bytes / KIB), true);
    this.waitNanos = wait.toNanos();
  }

  /** The budget, in bytes: also the largest body accepted. */
  public long bytes() {
    return bytes;
  }

  Reservation reserve() {
    return new Reservation();
  }

  /** One request's share of the budget, returned when it closes. Not thread-safe. */
  final class Reservation implements AutoCloseable {
    private long reservedBytes;
    private int held;

    /**
     * Adds bytes to this request's share, waiting up to {@code cds.overload-wait} for room.
     *
     * @return false when there was no room in time
     */
    boolean add(long more) {
      reservedBytes += more;
      int needed = (int) Math.min(Integer.MAX_VALUE, (reservedBytes + KIB - 1) / KIB) - held;
      if (needed <= 0) {
        return true;
      }
      try {
        if (!permits.tryAcquire(needed, waitNanos, TimeUnit.NANOSECONDS)) {
          return false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      held += needed;
      return true;
    }

    @Override
    public void close() {
      permits.release(held);
      held = 0;
    }
  }
}
