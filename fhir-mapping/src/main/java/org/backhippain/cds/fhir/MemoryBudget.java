package org.backhippain.cds.fhir;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The memory bulkhead: how many bytes of FHIR data — request bodies and bytes read from FHIR
 * servers alike — may be in progress at once. The service sizes it to the heap ({@code
 * cds.body-heap-share} of the maximum heap divided by {@code cds.body-cost-factor}, the heap one
 * such byte occupies once parsed and evaluated). Permits are kibibytes.
 */
public final class MemoryBudget {
  private static final int KIB = 1024;

  private final long bytes;
  private final Semaphore permits;
  private final long waitNanos;

  /**
   * @param wait how long {@link Reservation#add(long)} waits for room
   */
  public MemoryBudget(long bytes, Duration wait) {
    this.bytes = Math.max(bytes, KIB);
    this.permits = new Semaphore((int) Math.min(Integer.MAX_VALUE, this.bytes / KIB), true);
    this.waitNanos = wait.toNanos();
  }

  /** The budget, in bytes: also the largest single body or fetch accepted. */
  public long bytes() {
    return bytes;
  }

  public Reservation reserve() {
    return new Reservation();
  }

  /**
   * One request's share of the budget, returned when it closes. Safe for several threads; no lock
   * is held while waiting for room, so closing never waits for an adder.
   */
  public final class Reservation implements AutoCloseable {
    private long reservedBytes;
    private int held;
    private int pending;
    private boolean closed;

    /**
     * Adds bytes to this share, waiting up to the budget's wait for room.
     *
     * @return false when there was no room in time, or the share is closed (the bytes are then not
     *     added)
     */
    public boolean add(long more) {
      return add(more, waitNanos);
    }

    /** As {@link #add(long)}, waiting at most {@code maxWaitNanos} (and never longer). */
    public boolean add(long more, long maxWaitNanos) {
      int needed;
      synchronized (this) {
        if (closed) {
          return false;
        }
        long total = reservedBytes + more;
        needed = (int) Math.min(Integer.MAX_VALUE, (total + KIB - 1) / KIB) - held - pending;
        if (needed <= 0) {
          reservedBytes = total;
          return true;
        }
        pending += needed;
      }
      boolean acquired;
      try {
        acquired =
            permits.tryAcquire(
                needed, Math.max(0, Math.min(maxWaitNanos, waitNanos)), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        acquired = false;
      }
      synchronized (this) {
        pending -= needed;
        if (acquired && closed) {
          permits.release(needed);
          return false;
        }
        if (acquired) {
          held += needed;
          reservedBytes += more;
        }
        return acquired;
      }
    }

    @Override
    public synchronized void close() {
      closed = true;
      permits.release(held);
      held = 0;
      reservedBytes = 0;
    }
  }
}
