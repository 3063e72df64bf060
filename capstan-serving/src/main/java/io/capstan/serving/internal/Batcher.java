package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.Tensor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Merges concurrent requests into one batch along the first dimension, up to {@code maxBatchSize}
 * rows or until {@code maxLatency} has passed since the batch's first request, runs the batch once
 * and hands each request its rows of the answer. Requests that cannot be stacked with the open
 * batch (other shapes or requested outputs) start the next one.
 */
final class Batcher implements AutoCloseable {

    /** Runs one merged batch. */
    interface BatchRunner {
        List<Tensor> run(List<Tensor> inputs, Set<String> outputs);
    }

    private record Pending(List<Tensor> inputs, Set<String> outputs, int rows, CompletableFuture<List<Tensor>> result) {
    }

    private final int maxBatchSize;
    private final long maxLatencyNanos;
    private final BatchRunner runner;
    private final IntConsumer batchSizes;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    Batcher(int maxBatchSize, Duration maxLatency, BatchRunner runner, IntConsumer batchSizes) {
        this.maxBatchSize = maxBatchSize;
        this.maxLatencyNanos = maxLatency.toNanos();
        this.runner = runner;
        this.batchSizes = batchSizes;
        this.worker = Thread.ofVirtual().name("capstan-batcher").start(this::formBatches);
    }

    /** Runs {@code inputs} as part of a batch; blocks until its rows of the answer are back. */
    List<Tensor> submit(List<Tensor> inputs, Set<String> outputs) {
        int rows = (int) inputs.getFirst().shape()[0];
        if (rows >= maxBatchSize || closed) {
            batchSizes.accept(rows);
            return runner.run(inputs, outputs);
        }
        var pending = new Pending(inputs, outputs, rows, new CompletableFuture<>());
        queue.add(pending);
        try {
            return pending.result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelFailedException("interrupted while waiting for a batch", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InferenceException inference) throw inference;
            throw new ModelFailedException("batch failed: " + e.getCause(), e.getCause());
        }
    }

    private void formBatches() {
        Pending carried = null;
        while (!closed) {
            try {
                Pending first = carried != null ? carried : queue.poll(100, TimeUnit.MILLISECONDS);
                carried = null;
                if (first == null) continue;
                var batch = new ArrayList<Pending>();
                batch.add(first);
                int rows = first.rows;
                long deadline = System.nanoTime() + maxLatencyNanos;
                while (rows < maxBatchSize) {
                    long left = deadline - System.nanoTime();
                    Pending next = left <= 0 ? queue.poll() : queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) break;
                    if (rows + next.rows > maxBatchSize || !stackable(first, next)) {
                        carried = next;
                        break;
                    }
                    batch.add(next);
                    rows += next.rows;
                }
                Thread.ofVirtual().start(() -> run(batch));
            } catch (InterruptedException e) {
                return;
            }
        }
        failAll(carried);
    }

    private void failAll(Pending carried) {
        var left = new ArrayList<Pending>();
        if (carried != null) left.add(carried);
        queue.drainTo(left);
        for (var p : left) {
            p.result.completeExceptionally(new io.capstan.serving.api.ModelNotReadyException("the revision is shutting down"));
        }
    }

    private static boolean stackable(Pending a, Pending b) {
        if (!a.outputs.equals(b.outputs) || a.inputs.size() != b.inputs.size()) return false;
        for (int i = 0; i < a.inputs.size(); i++) {
            if (!TensorBatches.stackable(a.inputs.get(i), b.inputs.get(i))) return false;
        }
        return true;
    }

    private void run(List<Pending> batch) {
        try {
            var merged = new ArrayList<Tensor>();
            for (int i = 0; i < batch.getFirst().inputs.size(); i++) {
                var parts = new ArrayList<Tensor>(batch.size());
                for (var p : batch) parts.add(p.inputs.get(i));
                merged.add(TensorBatches.concat(parts));
            }
            var rows = new int[batch.size()];
            for (int i = 0; i < rows.length; i++) rows[i] = batch.get(i).rows;
            batchSizes.accept(java.util.Arrays.stream(rows).sum());
            var outputs = runner.run(merged, batch.getFirst().outputs);
            var perRequest = new ArrayList<List<Tensor>>(batch.size());
            for (int i = 0; i < batch.size(); i++) perRequest.add(new ArrayList<>());
            for (var output : outputs) {
                var pieces = TensorBatches.split(output, rows);
                for (int i = 0; i < pieces.size(); i++) perRequest.get(i).add(pieces.get(i));
            }
            for (int i = 0; i < batch.size(); i++) batch.get(i).result.complete(perRequest.get(i));
        } catch (RuntimeException e) {
            batch.forEach(p -> p.result.completeExceptionally(e));
        }
    }

    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        failAll(null);
    }
}
