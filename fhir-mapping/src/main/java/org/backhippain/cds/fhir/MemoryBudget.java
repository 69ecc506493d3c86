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

  /** One request's share of the budget, returned when it closes. Safe for several threads. */
  public final class Reservation implements AutoCloseable {
    private long reservedBytes;
    private int held;

    /**
     * Adds bytes to this share, waiting up to the budget's wait for room.
     *
     * @return false when there was no room in time (the bytes are then not added)
     */
    public boolean add(long more) {
      return add(more, waitNanos);
    }

    /** As {@link #add(long)}, waiting at most {@code maxWaitNanos} (and never longer). */
    public synchronized boolean add(long more, long maxWaitNanos) {
      long total = reservedBytes + more;
      int needed = (int) Math.min(Integer.MAX_VALUE, (total + KIB - 1) / KIB) - held;
      if (needed > 0) {
        long wait = Math.max(0, Math.min(maxWaitNanos, waitNanos));
        try {
          if (!permits.tryAcquire(needed, wait, TimeUnit.NANOSECONDS)) {
            return false;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        held += needed;
      }
      reservedBytes = total;
      return true;
    }

    @Override
    public synchronized void close() {
      permits.release(held);
      held = 0;
      reservedBytes = 0;
    }
  }
}
