package io.capstan.serving.internal;

import io.capstan.serving.runtime.LoadedModel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One replica: a loaded model, the lane its calls run on, and a use count, so that a retired replica
 * is closed only once its last request has finished. A use count of -1 means closed.
 */
final class ModelReplica {
    private final LoadedModel model;
    private final ModelCallExecutor lane;
    private final AtomicInteger uses = new AtomicInteger();
    private volatile boolean retired;

    /**
     * @param name names the replica's model threads
     * @param timeout the longest a call may wait in the replica's queue (see {@link ModelCallExecutor})
     */
    ModelReplica(LoadedModel model, String name, java.time.Duration timeout) {
        this.model = model;
        this.lane = new ModelCallExecutor("capstan-model-" + name, Runtime.getRuntime().availableProcessors(), timeout);
    }

    LoadedModel model() {
        return model;
    }

    /** Runs {@code work} against this replica's model, on its lane when called from a virtual thread. */
    <T> T call(Function<LoadedModel, T> work) {
        if (model.callsOutOfProcess()) return work.apply(model);
        return lane.call(() -> work.apply(model));
    }

    /** Takes a use; false when the instance is already closed. */
    boolean tryAcquire() {
        while (true) {
            int current = uses.get();
            if (current < 0) return false;
            if (uses.compareAndSet(current, current + 1)) return true;
        }
    }

    void release() {
        if (uses.decrementAndGet() == 0 && retired) closeIfUnused();
    }

    /** No new requests should pick this instance; it closes once unused. */
    void retire() {
        retired = true;
        closeIfUnused();
    }

    private void closeIfUnused() {
        if (uses.compareAndSet(0, -1)) {
            lane.close();
            model.close();
        }
    }
}
