package io.capstan.serving.http;

import io.capstan.serving.api.InferenceTracing;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerRequestHeaders;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.function.Supplier;

/** {@link InferenceTracing} over HTTP: the trace context comes from the request's headers. */
final class InferenceSpans {
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

    private final InferenceTracing tracing;

    InferenceSpans(Tracer tracer) {
        this.tracing = new InferenceTracing(tracer);
    }

    Tracer tracer() {
        return tracing.tracer();
    }

    /** Runs {@code call} inside the request's span. */
    <T> T traced(ServerRequestHeaders headers, String protocol, String namespace, String model, Supplier<T> call) {
        return tracing.traced(headers, HEADERS, protocol, namespace, model, call);
    }
}
