package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;

/**
 * Merges concurrent requests into one batch along the first dimension, up to {@code maxBatchSize}
 * rows or until {@code maxLatency} has passed since the batch's first request, runs the batch once
 * and hands each request its rows of the answer. Requests that cannot be stacked with the open
 * batch (other shapes or requested outputs) start the next one. Every request ends within
 * {@code timeout}: answered, failed, or refused as not ready when the batcher closes or the batch
 * does not answer in time.
 */
final class Batcher implements AutoCloseable {

    /** Runs one merged batch. */
    interface BatchRunner {
        List<Tensor> run(List<Tensor> inputs, Set<String> outputs);
    }

    /** @param span the request's span, a no-op one where it is not traced; @param arrivedNanos when it reached the revision */
    private record Pending(List<Tensor> inputs, Set<String> outputs, int rows, CompletableFuture<List<Tensor>> result,
                           io.opentelemetry.api.trace.Span span, long arrivedNanos) {
    }

    private final int maxBatchSize;
    private final long maxLatencyNanos;
    private final Duration timeout;
    private final BatchRunner runner;
    private final IntConsumer batchSizes;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    Batcher(int maxBatchSize, Duration maxLatency, Duration timeout, BatchRunner runner, IntConsumer batchSizes) {
        this.maxBatchSize = maxBatchSize;
        this.maxLatencyNanos = maxLatency.toNanos();
        this.timeout = timeout;
        this.runner = runner;
        this.batchSizes = batchSizes;
        this.worker = Thread.ofVirtual().name("capstan-batcher").start(this::formBatches);
    }

    /** Runs {@code inputs} as part of a batch; blocks until its rows of the answer are back, or the timeout. */
    List<Tensor> submit(List<Tensor> inputs, Set<String> outputs) {
        return submit(inputs, outputs, io.opentelemetry.api.trace.Span.getInvalid(), System.nanoTime());
    }

    /** As {@link #submit(List, Set)}, telling {@code span} the batch it ran in and how long it waited since {@code arrivedNanos}. */
    List<Tensor> submit(List<Tensor> inputs, Set<String> outputs, io.opentelemetry.api.trace.Span span, long arrivedNanos) {
        int rows = (int) inputs.getFirst().shape()[0];
        if (rows >= maxBatchSize || closed) {
            batchSizes.accept(rows);
            if (span.isRecording()) InferenceSpanAttributes.ranIn(span, rows, 1, arrivedNanos, System.nanoTime());
            return runner.run(inputs, outputs);
        }
        var pending = new Pending(inputs, outputs, rows, new CompletableFuture<>(), span, arrivedNanos);
        queue.add(pending);
        // close() may have drained the queue between the check above and the add
        if (closed) failQueued();
        try {
            try {
                return pending.result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // marks it done, so that a batch not yet formed leaves it out; an answer that came just now still counts
                if (!pending.result.completeExceptionally(e)) return pending.result.get();
                throw new ModelNotReadyException("the batch did not answer within " + text(timeout) + "; retry later");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.result.cancel(false);
            throw new ModelFailedException("interrupted while waiting for a batch", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InferenceException inference) throw inference;
            throw new ModelFailedException("batch failed: " + e.getCause(), e.getCause());
        }
    }

    private static String text(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    private void formBatches() {
        Pending carried = null;
        var forming = new ArrayList<Pending>();
        try {
            while (!closed) {
                Pending first = carried != null ? carried : queue.poll(100, TimeUnit.MILLISECONDS);
                carried = null;
                if (first == null || first.result.isDone()) continue;
                forming.add(first);
                int rows = first.rows;
                long deadline = System.nanoTime() + maxLatencyNanos;
                while (rows < maxBatchSize) {
                    long left = deadline - System.nanoTime();
                    Pending next = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) break;
                    if (next.result.isDone()) continue;
                    if (rows + next.rows > maxBatchSize || !stackable(first, next)) {
                        carried = next;
                        break;
                    }
                    forming.add(next);
                    rows += next.rows;
                }
                var batch = List.copyOf(forming);
                forming.clear();
                Thread.ofVirtual().start(() -> run(batch));
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            // whatever this thread holds when it stops would otherwise never be answered
            if (carried != null) forming.add(carried);
            forming.forEach(Batcher::refuse);
            failQueued();
        }
    }

    private void failQueued() {
        var left = new ArrayList<Pending>();
        queue.drainTo(left);
        left.forEach(Batcher::refuse);
    }

    private static void refuse(Pending pending) {
        pending.result.completeExceptionally(new ModelNotReadyException("the revision is shutting down"));
    }

    private static boolean stackable(Pending a, Pending b) {
        if (!a.outputs.equals(b.outputs) || a.inputs.size() != b.inputs.size()) return false;
        for (int i = 0; i < a.inputs.size(); i++) {
            if (!TensorBatches.stackable(a.inputs.get(i), b.inputs.get(i))) return false;
        }
        return true;
    }

    private void run(List<Pending> formed) {
        var batch = formed.stream().filter(p -> !p.result.isDone()).toList();
        if (batch.isEmpty()) return;
        try {
            var merged = new ArrayList<Tensor>();
            for (int i = 0; i < batch.getFirst().inputs.size(); i++) {
                var parts = new ArrayList<Tensor>(batch.size());
                for (var p : batch) parts.add(p.inputs.get(i));
                merged.add(TensorBatches.concat(parts));
            }
            var rows = new int[batch.size()];
            for (int i = 0; i < rows.length; i++) rows[i] = batch.get(i).rows;
            int total = java.util.Arrays.stream(rows).sum();
            batchSizes.accept(total);
            long called = System.nanoTime();
            for (var p : batch) {
                if (p.span.isRecording()) InferenceSpanAttributes.ranIn(p.span, total, batch.size(), p.arrivedNanos, called);
            }
            var outputs = runner.run(merged, batch.getFirst().outputs);
            var perRequest = new ArrayList<List<Tensor>>(batch.size());
            for (int i = 0; i < batch.size(); i++) perRequest.add(new ArrayList<>());
            for (var output : outputs) {
                var pieces = TensorBatches.split(output, rows);
                for (int i = 0; i < pieces.size(); i++) perRequest.get(i).add(pieces.get(i));
            }
            for (int i = 0; i < batch.size(); i++) batch.get(i).result.complete(perRequest.get(i));
        } catch (Throwable e) {
            batch.forEach(p -> p.result.completeExceptionally(e));
            if (e instanceof Error error) throw error;
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        failQueued();
    }
}
