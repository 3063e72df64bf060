package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.ModelFailedException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Platform threads for model calls. Native runtimes (ONNX Runtime, XGBoost) pin a virtual thread's
 * carrier for the whole call; made from the HTTP server's virtual threads, those calls starve the
 * carriers that socket I/O runs on. Calls from virtual threads are handed to this pool instead.
 */
final class ModelThreads {
    private static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
            runnable -> {
                var thread = new Thread(runnable, "capstan-model");
                thread.setDaemon(true);
                return thread;
            });

    private ModelThreads() {
    }

    static <T> T call(Supplier<T> work) {
        if (!Thread.currentThread().isVirtual()) return work.get();
        var future = POOL.submit(work::get);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ModelFailedException("interrupted while the model ran", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InferenceException inference) throw inference;
            if (e.getCause() instanceof RuntimeException runtime) throw runtime;
            throw new ModelFailedException("the model failed: " + e.getCause(), e.getCause());
        }
    }
}
