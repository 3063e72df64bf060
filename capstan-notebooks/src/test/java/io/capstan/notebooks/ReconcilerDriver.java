package io.capstan.notebooks;

import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Drives a reconciler by hand, as the controller runtime would, until the resource is as a test wants it. */
final class ReconcilerDriver {
    private ReconcilerDriver() {
    }

    /**
     * Reconciles {@code key} again after each requeue (at most 200 ms apart) until {@code done} holds for the stored
     * resource, and returns it; after {@code timeout}, fails with its status and {@code context} (a workload's log).
     */
    static Resource drive(Reconciler reconciler, ResourceStore store, ResourceKey key, Predicate<Resource> done, Duration timeout,
                          Supplier<String> context) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            var result = reconciler.reconcile(key);
            var r = store.get(key);
            if (done.test(r)) return r;
            var wait = result.requeueAfter().orElse(Duration.ofMillis(100));
            try {
                Thread.sleep(Math.max(20, Math.min(wait.toMillis(), 200)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        var more = context.get();
        throw new AssertionError("not done after " + timeout + ": " + store.get(key).status() + (more.isEmpty() ? "" : "; " + more));
    }
}
