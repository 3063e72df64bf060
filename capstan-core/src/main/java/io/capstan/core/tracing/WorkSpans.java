package io.capstan.core.tracing;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Spans of work that starts in one reconcile and ends in a later one, kept by the work's id while it runs. After a
 * restart the spans that were open are gone (they are never exported); a reconciler starts the work's span again,
 * or records it when the work ends, from the start time its status kept. Thread-safe.
 */
public final class WorkSpans {
    /** Open spans kept at most; past that all are ended, so that work never seen to end cannot fill memory. */
    static final int MAX_OPEN = 100_000;

    private final Tracer tracer;
    private final boolean on;
    private final Map<String, Span> open = new ConcurrentHashMap<>();

    public WorkSpans(Tracer tracer) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.on = Traces.isOn(tracer);
    }

    /** False with the no-op tracer: then every other method does nothing. */
    public boolean on() {
        return on;
    }

    /** The open span of {@code id}, started now (at {@code at}) under {@code parent} if there is none. */
    public Span open(String id, String name, Context parent, Instant at, Attributes attributes) {
        if (!on) return Span.getInvalid();
        if (open.size() >= MAX_OPEN && !open.containsKey(id)) endAll("", Instant.now(), Attributes.empty());
        return open.computeIfAbsent(id, k -> tracer.spanBuilder(name).setParent(parent).setStartTimestamp(at).setAllAttributes(attributes).startSpan());
    }

    public Optional<Span> find(String id) {
        return on ? Optional.ofNullable(open.get(id)) : Optional.empty();
    }

    /** Ends the open span of {@code id} at {@code at} with {@code attributes} added; false if none was open. */
    public boolean end(String id, Instant at, Attributes attributes, boolean failed, String message) {
        if (!on) return false;
        var span = open.remove(id);
        if (span == null) return false;
        finish(span, at, attributes, failed, message);
        return true;
    }

    /**
     * Records the span of work that was not seen to start (it started before a restart), from {@code startedAt} to
     * {@code endedAt}.
     */
    public void record(String name, Context parent, Instant startedAt, Instant endedAt, Attributes attributes, boolean failed, String message) {
        if (!on) return;
        var span = tracer.spanBuilder(name).setParent(parent).setStartTimestamp(startedAt).setAllAttributes(attributes).startSpan();
        finish(span, endedAt, Attributes.empty(), failed, message);
    }

    /** Ends every open span whose id starts with {@code prefix}. */
    public void endAll(String prefix, Instant at, Attributes attributes) {
        if (!on) return;
        for (var id : open.keySet()) {
            if (id.startsWith(prefix)) end(id, at, attributes, false, "");
        }
    }

    /** How many spans are open. */
    public int openCount() {
        return open.size();
    }

    private static void finish(Span span, Instant at, Attributes attributes, boolean failed, String message) {
        span.setAllAttributes(attributes);
        if (failed) span.setStatus(StatusCode.ERROR, message);
        span.end(at);
    }
}
