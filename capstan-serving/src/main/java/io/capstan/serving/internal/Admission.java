package io.capstan.serving.internal;

import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.OverloadedException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission by deadline: a revision runs up to {@code capacity} requests at once, and a request that finds them all
 * taken waits for one unless its estimated wait is longer than the request timeout (or an explicit queue bound is
 * reached), in which case it is refused at once with 429.
 *
 * <p>The wait is estimated by Little's law: with every slot taken, slots free up at {@code capacity} per average slot
 * hold time, so the request at queue position {@code p} waits about {@code p * averageHold / capacity}. A count limit
 * alone sheds far too early for a fast model (256 waiting iris calls are 4 ms of work, yet the 257th was refused) and
 * far too late for a slow one; the estimate follows the model. Memory stays bounded by the same rule: the queue never
 * holds more than the timeout's worth of work.
 */
final class Admission {
    /** No explicit bound on waiting requests: only the deadline limits the queue. */
    static final int UNBOUNDED = RevisionSettings.NO_QUEUE_LIMIT;

    private final String modelName;
    private final int capacity;
    private final int queueBound;
    private final Duration timeout;
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();
    /**
     * Moving average of how long a request holds a slot, 0 until one has been released. Written without a lock by
     * releasing threads: a lost update only shifts an estimate.
     */
    private volatile long averageHoldNanos;

    /**
     * @param capacity requests that run at once
     * @param queueBound requests that may wait at once, {@link #UNBOUNDED} for no bound but the deadline
     * @param timeout the longest a request may wait, and the deadline the estimated wait is held against
     */
    Admission(String modelName, int capacity, int queueBound, Duration timeout) {
        this.modelName = modelName;
        this.capacity = Math.max(1, capacity);
        this.queueBound = queueBound;
        this.timeout = timeout;
        this.slots = new Semaphore(this.capacity, true);
    }

    /** Takes a slot, waiting for one if the estimated wait allows; returns {@link System#nanoTime()} at admission. */
    long acquire() {
        // First come, first served, as the estimate assumes: a free slot is taken at once only when nobody waits (an
        // untimed tryAcquire barges even on a fair semaphore), and waiters are served in order.
        if (waiting.get() == 0 && slots.tryAcquire()) return System.nanoTime();
        int position = waiting.incrementAndGet();
        try {
            if (position > queueBound) {
                throw new OverloadedException("model '" + modelName + "' is overloaded: its queue limit of " + queueBound
                        + " waiting requests is reached; retry later, or raise the queue limit");
            }
            long estimate = estimatedWaitNanos(position);
            if (estimate > timeout.toNanos()) {
                throw new OverloadedException("model '" + modelName + "' is overloaded: " + (position - 1)
                        + " requests are already waiting for its " + capacity + " slots, an estimated wait of " + text(estimate)
                        + ", longer than its timeout of " + text(timeout.toNanos())
                        + "; retry later, or raise the timeout or the replicas");
            }
            if (!slots.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new OverloadedException("model '" + modelName + "' had no free slot within its timeout of "
                        + text(timeout.toNanos()) + "; retry later");
            }
            return System.nanoTime();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelNotReadyException("interrupted while waiting for model '" + modelName + "'");
        } finally {
            waiting.decrementAndGet();
        }
    }

    /** Frees the slot taken at {@code admittedNanos} (from {@link #acquire()}) and learns how long it was held. */
    void release(long admittedNanos) {
        long held = Math.max(1, System.nanoTime() - admittedNanos);
        long average = averageHoldNanos;
        averageHoldNanos = average == 0 ? held : Math.max(1, average + (held - average) / 8);
        slots.release();
    }

    /** How long the request at queue position {@code position} (1 is next) would wait; 0 while nothing was timed. */
    long estimatedWaitNanos(int position) {
        return (long) ((double) position * averageHoldNanos / capacity);
    }

    int waiting() {
        return waiting.get();
    }

    static String text(long nanos) {
        if (nanos < 10_000_000L) return String.format(java.util.Locale.ROOT, "%.1f ms", nanos / 1e6);
        if (nanos < 10_000_000_000L) return (nanos / 1_000_000) + " ms";
        return String.format(java.util.Locale.ROOT, "%.0f s", nanos / 1e9);
    }
}
