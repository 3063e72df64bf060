package io.capstan.serving.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;

/** What a revision adds to the current inference request's span; nothing when the span does not record. */
final class InferenceSpanAttributes {
    static final AttributeKey<Long> REVISION = AttributeKey.longKey("capstan.revision");
    static final AttributeKey<Long> BATCH_ROWS = AttributeKey.longKey("capstan.inference.batch.size");
    static final AttributeKey<Long> BATCH_REQUESTS = AttributeKey.longKey("capstan.inference.batch.requests");
    static final AttributeKey<Double> QUEUE_MS = AttributeKey.doubleKey("capstan.inference.queue_time_ms");

    private InferenceSpanAttributes() {
    }

    /**
     * The batch the request ran in, and how long it waited from reaching the revision to its model call (for
     * admission and, when batching, for its batch to form).
     */
    static void ranIn(Span span, long rows, int requests, long arrivedNanos, long calledNanos) {
        if (!span.isRecording()) return;
        span.setAttribute(BATCH_ROWS, rows);
        span.setAttribute(BATCH_REQUESTS, (long) requests);
        span.setAttribute(QUEUE_MS, (calledNanos - arrivedNanos) / 1e6);
    }
}
