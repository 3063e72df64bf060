package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.OverloadedException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.LoadedModel;
import io.capstan.store.testing.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RevisionBehaviourTest {

    /** Doubles FP32 [rows, 2] input, after an optional delay; records the rows of each call. */
    static final class DoublingModel implements LoadedModel {
        final ConcurrentLinkedQueue<Integer> batches = new ConcurrentLinkedQueue<>();
        final long delayMillis;
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        DoublingModel(long delayMillis) {
            this.delayMillis = delayMillis;
        }

        @Override
        public String platform() {
            return "java";
        }

        @Override
        public List<TensorMetadata> inputs() {
            return List.of(new TensorMetadata("x", DataType.FP32, List.of(-1L, 2L)));
        }

        @Override
        public List<TensorMetadata> outputs() {
            return List.of(new TensorMetadata("y", DataType.FP32, List.of(-1L, 2L)));
        }

        @Override
        public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
            if (closed.get()) throw new IllegalStateException("predict on a closed model");
            var x = inputs.getFirst();
            batches.add((int) x.shape()[0]);
            peak.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                if (delayMillis > 0) Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
            var y = new float[x.size()];
            for (int i = 0; i < y.length; i++) y[i] = x.floats()[i] * 2;
            return List.of(Tensor.ofFloats("y", x.shape(), y));
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }

    static InferenceRequest row(float a, float b) {
        return InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 2}, new float[] {a, b}));
    }

    static RevisionSettings settings(int min, int max, int perReplica, int queue, int batch, Duration idle) {
        return new RevisionSettings(min, max, "concurrency", 1, perReplica, queue, Duration.ofSeconds(30), idle, batch, Duration.ofMillis(50));
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void batcherMergesConcurrentRequestsAndSplitsTheAnswers() throws Exception {
        var model = new DoublingModel(5);
        var revision = new Revision("default", "m", 1, () -> model, settings(1, 1, 4, 1000, 8, Duration.ofMinutes(1)),
                new SimpleMeterRegistry(), java.time.Clock.systemUTC());
        revision.start();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<float[]>>();
            for (int i = 0; i < 64; i++) {
                float v = i;
                futures.add(pool.submit(() -> revision.infer(row(v, -v)).output("y").orElseThrow().floats()));
            }
            for (int i = 0; i < 64; i++) assertThat(futures.get(i).get(60, TimeUnit.SECONDS)).containsExactly(2f * i, -2f * i);
        }
        assertThat(model.batches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(64);
        assertThat(model.batches.stream().mapToInt(Integer::intValue).max().orElseThrow()).isGreaterThan(1).isLessThanOrEqualTo(8);
        revision.close();
    }

    @Test
    void scalesToZeroWhenIdleAndTheNextRequestActivatesIt() throws Exception {
        var clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        var loads = new AtomicInteger();
        var revision = new Revision("default", "m", 1, () -> {
            loads.incrementAndGet();
            return new DoublingModel(0);
        }, settings(0, 1, 4, 100, 0, Duration.ofSeconds(30)), new SimpleMeterRegistry(), clock);
        revision.start();
        assertThat(revision.replicas()).isEqualTo(1);
        revision.infer(row(1, 2));
        clock.advance(Duration.ofSeconds(10));
        revision.autoscale();
        assertThat(revision.replicas()).as("still within the idle period").isEqualTo(1);
        clock.advance(Duration.ofSeconds(31));
        revision.autoscale();
        assertThat(revision.replicas()).isZero();
        assertThat(revision.infer(row(3, 4)).output("y").orElseThrow().floats()).containsExactly(6f, 8f);
        assertThat(revision.replicas()).isEqualTo(1);
        assertThat(loads.get()).isEqualTo(2);
        assertThat(revision.lastColdStartNanos()).isPositive();
        revision.close();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void scalesUpWithConcurrencyAndDownWhenItPasses() throws Exception {
        var revision = new Revision("default", "m", 1, () -> new DoublingModel(300), settings(1, 3, 1, 100, 0, Duration.ofMinutes(1)),
                new SimpleMeterRegistry(), java.time.Clock.systemUTC());
        revision.start();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<?>>();
            for (int i = 0; i < 3; i++) futures.add(pool.submit(() -> revision.infer(row(1, 1))));
            Thread.sleep(100);
            revision.autoscale();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (revision.replicas() < 3 && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(revision.replicas()).isEqualTo(3);
            for (var f : futures) f.get(60, TimeUnit.SECONDS);
        }
        revision.autoscale();
        revision.autoscale();
        assertThat(revision.replicas()).isEqualTo(1);
        revision.close();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aFullQueueRefusesQuicklyAndMemoryStaysBounded() throws Exception {
        var revision = new Revision("default", "m", 1, () -> new DoublingModel(200), settings(1, 1, 1, 4, 0, Duration.ofMinutes(1)),
                new SimpleMeterRegistry(), java.time.Clock.systemUTC());
        revision.start();
        var refused = new AtomicInteger();
        var answered = new AtomicInteger();
        var slowestRefusalNanos = new java.util.concurrent.atomic.AtomicLong();
        var start = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 200; i++) {
                pool.submit(() -> {
                    start.await();
                    long t0 = System.nanoTime();
                    try {
                        revision.infer(row(1, 2));
                        answered.incrementAndGet();
                    } catch (OverloadedException e) {
                        refused.incrementAndGet();
                        slowestRefusalNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                    }
                    return null;
                });
            }
            start.countDown();
        }
        assertThat(answered.get() + refused.get()).isEqualTo(200);
        assertThat(answered.get()).isBetween(1, 50);
        assertThat(refused.get()).isGreaterThan(150);
        assertThat(Duration.ofNanos(slowestRefusalNanos.get())).isLessThan(Duration.ofSeconds(2));
        revision.close();
    }

    /** The defaults with {@code containerConcurrency} and {@code timeout} set, as the reconciler builds them. */
    static RevisionSettings defaultsWith(int containerConcurrency, Duration timeout) {
        var d = RevisionSettings.defaults();
        return new RevisionSettings(d.minReplicas(), d.maxReplicas(), d.scaleMetric(), d.scaleTarget(), containerConcurrency,
                d.queueLimit(), timeout, d.idleBeforeScaleToZero(), d.maxBatchSize(), d.maxBatchLatency());
    }

    /** Sends {@code count} requests at once; returns how many were answered and how long each refusal took. */
    private static List<Long> burst(Revision revision, int count, AtomicInteger answered) throws InterruptedException {
        var refusalNanos = new ConcurrentLinkedQueue<Long>();
        var start = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < count; i++) {
                pool.submit(() -> {
                    start.await();
                    long t0 = System.nanoTime();
                    try {
                        var y = revision.infer(row(1, 2)).output("y").orElseThrow().floats();
                        if (y[0] == 2f) answered.incrementAndGet();
                    } catch (OverloadedException e) {
                        refusalNanos.add(System.nanoTime() - t0);
                    }
                    return null;
                });
            }
            start.countDown();
        }
        return new ArrayList<>(refusalNanos);
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void loadFarPastTheSlotsQueuesWhileItsWaitIsWithinTheTimeoutAndContainerConcurrencyHolds() throws Exception {
        // 600 requests at once on 2 slots of a 1 ms model: about 0.3 s of work, well inside the 60 s default timeout,
        // so none is refused (with a count limit of 256 waiting, most were); containerConcurrency 2 still bounds the calls
        var model = new DoublingModel(1);
        var revision = new Revision("default", "m", 1, () -> model, defaultsWith(2, Duration.ofSeconds(60)),
                new SimpleMeterRegistry(), java.time.Clock.systemUTC());
        revision.start();
        var answered = new AtomicInteger();
        var refused = burst(revision, 600, answered);
        assertThat(refused).as("refused requests").isEmpty();
        assertThat(answered.get()).isEqualTo(600);
        assertThat(model.peak.get()).as("model calls at once, containerConcurrency 2").isLessThanOrEqualTo(2);
        revision.close();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void requestsWhoseEstimatedWaitExceedsTheTimeoutAreRefusedAtOnce() throws Exception {
        // 400 ms per call on 1 slot with a 2 s timeout: about 5 waiters fit, and the rest of 40 are refused without
        // waiting the timeout out
        var model = new DoublingModel(400);
        var revision = new Revision("default", "m", 1, () -> model, defaultsWith(1, Duration.ofSeconds(2)),
                new SimpleMeterRegistry(), java.time.Clock.systemUTC());
        revision.start();
        revision.infer(row(1, 2)); // times one call
        var answered = new AtomicInteger();
        var refused = burst(revision, 40, answered);
        assertThat(answered.get() + refused.size()).isEqualTo(40);
        assertThat(answered.get()).as("answered").isBetween(1, 12);
        var sorted = refused.stream().sorted().toList();
        assertThat(Duration.ofNanos(sorted.get(sorted.size() / 2))).as("median refusal").isLessThan(Duration.ofMillis(500));
        revision.close();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void aRolloutUnderLoadDropsNoRequest() throws Exception {
        var server = new ModelServer(Duration.ofSeconds(1));
        var meters = new SimpleMeterRegistry();
        var model = server.register("default", "m");
        var first = new Revision("default", "m", 1, () -> new DoublingModel(1), settings(1, 1, 8, 1000, 0, Duration.ofMinutes(1)),
                meters, java.time.Clock.systemUTC());
        first.start();
        model.route(Route.allTo(first, PayloadLogger.NONE));
        var stop = new AtomicBoolean();
        var failures = new ConcurrentLinkedQueue<Throwable>();
        var answered = new AtomicInteger();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 8; t++) {
                pool.submit(() -> {
                    while (!stop.get()) {
                        try {
                            var y = server.infer("m", null, row(1, 2)).output("y").orElseThrow().floats();
                            if (y[0] != 2f) throw new AssertionError("wrong answer");
                            answered.incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                });
            }
            try {
                var current = first;
                for (int n = 2; n <= 21; n++) {
                    var next = new Revision("default", "m", n, () -> new DoublingModel(1), settings(1, 1, 8, 1000, 0, Duration.ofMinutes(1)),
                            meters, java.time.Clock.systemUTC());
                    next.start();
                    model.route(Route.allTo(next, PayloadLogger.NONE));
                    current.close();
                    current = next;
                    Thread.sleep(20);
                }
            } finally {
                stop.set(true);
            }
        }
        assertThat(failures).isEmpty();
        assertThat(answered.get()).isGreaterThan(100);
        server.close();
    }
}
