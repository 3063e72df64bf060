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
