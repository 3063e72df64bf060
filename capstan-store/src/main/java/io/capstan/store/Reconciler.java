package io.capstan.store;

import io.capstan.core.ResourceKey;

/**
 * Level-triggered, idempotent reconciliation of one kind. {@link #reconcile} reads the current spec and the
 * observed world and acts on the difference; it never learns which event woke it. It writes only status.
 * A {@link io.capstan.core.TransientException} (or any unexpected exception) is retried with exponential back-off;
 * a {@link io.capstan.core.PermanentFailureException} is not retried.
 */
public interface Reconciler {
    /** The kind this reconciler owns, such as {@code Job}. */
    String kind();

    Result reconcile(ResourceKey key);

    /**
     * Cleans up after resources of this kind that were deleted while no replica led (after a {@code kill -9} and
     * restart, until the dead server's lease lapses; during a fail-over): their deletion is in the change feed from
     * before this leader's position, so {@link #reconcile} never sees their key. Called by the runtime each time this
     * replica becomes leader, on its own virtual thread. Does nothing by default.
     */
    default void sweep() {
    }

    /** What the runtime should do after a reconcile. */
    record Result(java.util.Optional<java.time.Duration> requeueAfter) {
        private static final Result DONE = new Result(java.util.Optional.empty());

        public static Result done() {
            return DONE;
        }

        public static Result requeueAfter(java.time.Duration delay) {
            return new Result(java.util.Optional.of(delay));
        }
    }
}
