package io.capstan.store.testing;

import io.capstan.store.ResourceStore;
import io.capstan.store.WatchQuery;
import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/** Waits for a condition on the store without sleeping: it re-checks whenever the change feed moves, or every 100 ms. */
public final class StoreWaits {
    private StoreWaits() {
    }

    /** Returns when {@code condition} holds; throws {@link AssertionError} naming {@code what} after {@code timeout}. */
    public static void until(ResourceStore store, Duration timeout, String what, BooleanSupplier condition) {
        Objects.requireNonNull(store, "store");
        long deadline = System.nanoTime() + timeout.toNanos();
        long seen = store.currentVersion();
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            var events = store.changes(WatchQuery.EVERYTHING, seen, 1000, Duration.ofNanos(Math.min(left, Duration.ofMillis(100).toNanos())));
            if (!events.isEmpty()) seen = events.getLast().resourceVersion();
        }
    }
}
