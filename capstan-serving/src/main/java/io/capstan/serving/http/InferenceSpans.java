package io.capstan.serving.http;

import io.capstan.core.tracing.Traces;
import io.capstan.serving.api.InferenceException;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;
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
 * One span per inference request, a child of the request's {@code traceparent} header where it has one, and current
 * while the model answers, so that the revision and its batcher add what they know (revision, batch, queue time).
 * With the no-op tracer nothing is done at all.
 */
final class InferenceSpans {
    static final String SPAN = "capstan.inference";
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("capstan.model");
    static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("capstan.inference.protocol");
    static final AttributeKey<String> ERROR = AttributeKey.stringKey("capstan.inference.error");

    private static final TextMapGetter<ServerRequestHeaders> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(ServerRequestHeaders headers) {
            return headers.stream().map(h -> h.name()).toList();
        }

        @Override
        public String get(ServerRequestHeaders headers, String key) {
            return headers == null ? null : headers.first(HeaderNames.create(key)).orElse(null);
        }
    };

    private final Tracer tracer;
    private final boolean on;

    InferenceSpans(Tracer tracer) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.on = Traces.isOn(tracer);
    }

    Tracer tracer() {
        return tracer;
    }

    /** Runs {@code call} inside the request's span. */
    <T> T traced(ServerRequestHeaders headers, String protocol, String namespace, String model, Supplier<T> call) {
        if (!on) return call.get();
        var parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS);
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
