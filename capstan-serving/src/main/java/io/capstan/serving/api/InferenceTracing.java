package io.capstan.serving.api;

import io.capstan.core.tracing.Traces;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One {@code capstan.inference} span per inference request, whatever the protocol (REST, gRPC): a child of the W3C
 * trace context the request carries ({@code traceparent}, {@code tracestate}) where it has one, and current while the
 * model answers, so that the revision and its batcher add what they know (revision, batch, queue time). With the
 * no-op tracer nothing is done at all.
 */
public final class InferenceTracing {
    public static final String SPAN = "capstan.inference";
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("capstan.model");
    static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("capstan.inference.protocol");
    static final AttributeKey<String> ERROR = AttributeKey.stringKey("capstan.inference.error");

    private final Tracer tracer;
    private final boolean on;

    public InferenceTracing(Tracer tracer) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.on = Traces.isOn(tracer);
    }

    public Tracer tracer() {
        return tracer;
    }

    /** Whether spans are recorded at all (not the no-op tracer). */
    public boolean on() {
        return on;
    }

    /**
     * Runs {@code call} inside the request's span.
     *
     * @param carrier  the request's headers or metadata, read through {@code getter} for the trace context
     * @param protocol {@code v2}, {@code v1} or {@code grpc}
     */
    public <C, T> T traced(C carrier, TextMapGetter<C> getter, String protocol, String namespace, String model, Supplier<T> call) {
        if (!on) return call.get();
        var parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), carrier, getter);
        var span = tracer.spanBuilder(SPAN).setParent(parent).setSpanKind(SpanKind.SERVER)
                .setAttribute(NAMESPACE, namespace).setAttribute(MODEL, model).setAttribute(PROTOCOL, protocol).startSpan();
        try (var scope = span.makeCurrent()) {
            return call.get();
        } catch (InferenceException e) {
            span.setAttribute(ERROR, e.error().name());
            span.setStatus(StatusCode.ERROR, e.getMessage());
            throw e;
        } catch (RuntimeException e) {
            span.recordException(e);
            span.setStatus(StatusCode.ERROR, e.getClass().getSimpleName());
            throw e;
        } finally {
            span.end();
        }
    }
}
