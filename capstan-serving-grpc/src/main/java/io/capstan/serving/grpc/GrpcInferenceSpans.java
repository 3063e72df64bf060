package io.capstan.serving.grpc;

import io.capstan.core.tracing.Traces;
import io.capstan.serving.api.InferenceException;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One {@code capstan.inference} span per ModelInfer call, as over HTTP: a child of the call's {@code traceparent}
 * metadata where it has one, and current while the model answers, so that the revision and its batcher add the
 * revision, batch and queue time. With the no-op tracer nothing is done at all.
 */
final class GrpcInferenceSpans {
    static final String SPAN = "capstan.inference";
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("capstan.model");
    static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("capstan.inference.protocol");
    static final AttributeKey<String> ERROR = AttributeKey.stringKey("capstan.inference.error");

    private static final TextMapGetter<Map<String, String>> MAP = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final Tracer tracer;
    private final boolean on;

    GrpcInferenceSpans(Tracer tracer) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.on = Traces.isOn(tracer);
    }

    /** Runs {@code call} inside the call's span; {@code traceparent} and {@code tracestate} may be null. */
    <T> T traced(String traceparent, String tracestate, String namespace, String model, Supplier<T> call) {
        if (!on) return call.get();
        var parent = Context.root();
        if (traceparent != null) {
            var carrier = tracestate == null ? Map.of("traceparent", traceparent) : Map.of("traceparent", traceparent, "tracestate", tracestate);
            parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), carrier, MAP);
        }
        var span = tracer.spanBuilder(SPAN).setParent(parent).setSpanKind(SpanKind.SERVER)
                .setAttribute(NAMESPACE, namespace).setAttribute(MODEL, model).setAttribute(PROTOCOL, "grpc").startSpan();
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
