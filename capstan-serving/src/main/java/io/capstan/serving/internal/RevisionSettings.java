package io.capstan.serving.internal;

import java.time.Duration;

/**
 * How a revision runs: replicas and autoscaling, per-replica concurrency, queueing and batching.
 *
 * @param scaleMetric "concurrency" or "rps"
 * @param scaleTarget target concurrency (or requests per second) per replica
 * @param concurrencyPerReplica requests one replica runs at once
 * @param queueLimit requests that may wait for a free slot before more are refused with 429;
 *        {@link #NO_QUEUE_LIMIT} for no bound but the timeout
 * @param timeout the request timeout: longest wait for a free slot, and the bound on a waiting request's
 *        estimated wait, past which it is refused with 429 at once
 * @param idleBeforeScaleToZero with minReplicas 0, how long without requests before unloading
 * @param maxBatchSize 0 for no batching
 */
public record RevisionSettings(int minReplicas, int maxReplicas, String scaleMetric, int scaleTarget,
                               int concurrencyPerReplica, int queueLimit, Duration timeout,
                               Duration idleBeforeScaleToZero, int maxBatchSize, Duration maxBatchLatency) {
    /** A {@code queueLimit} of no bound: waiting requests are refused only by the timeout rule. */
    public static final int NO_QUEUE_LIMIT = Integer.MAX_VALUE;

    /**
     * KServe's containerConcurrency 0: no bound on the requests a replica takes at once. They wait only in the
     * replica's queue of model calls ({@link ModelCallExecutor}), which refuses a call whose estimated wait exceeds the
     * timeout. A bound of its own would make every request past it park twice, once for a slot and once for the model
     * call: measured at 256 connections on iris, goodput fell from 60k/s to 32k/s with a bound of 64 and held at 63k/s
     * without one.
     */
    public static final int UNBOUNDED_CONCURRENCY = 1 << 20;

    /**
     * One replica with unbounded concurrency, KServe's default 60 s timeout and no queue bound: waiting requests are
     * refused only when their estimated wait exceeds the timeout.
     */
    public static RevisionSettings defaults() {
        return new RevisionSettings(1, 1, "concurrency", 100, UNBOUNDED_CONCURRENCY, NO_QUEUE_LIMIT, Duration.ofSeconds(60),
                Duration.ofSeconds(60), 0, Duration.ofMillis(5));
    }

    public boolean batching() {
        return maxBatchSize > 1;
    }

    /** Requests that may run at once across every replica. */
    int capacity() {
        long capacity = (long) Math.max(1, maxReplicas) * concurrencyPerReplica * (batching() ? maxBatchSize : 1);
        return (int) Math.min(Integer.MAX_VALUE / 2, capacity);
    }
}
