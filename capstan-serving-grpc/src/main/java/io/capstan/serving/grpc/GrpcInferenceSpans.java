package io.capstan.serving.grpc;

import io.capstan.serving.api.InferenceTracing;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/** {@link InferenceTracing} over gRPC: the trace context comes from the call's metadata, which {@link TraceparentInterceptor} carries. */
final class GrpcInferenceSpans {
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

    private final InferenceTracing tracing;

    GrpcInferenceSpans(Tracer tracer) {
        this.tracing = new InferenceTracing(tracer);
    }

    /** Runs {@code call} inside the call's span; {@code traceparent} and {@code tracestate} may be null. */
    <T> T traced(String traceparent, String tracestate, String namespace, String model, Supplier<T> call) {
        if (!tracing.on()) return call.get();
        var carrier = new HashMap<String, String>();
        if (traceparent != null) carrier.put("traceparent", traceparent);
        if (tracestate != null) carrier.put("tracestate", tracestate);
        return tracing.traced(carrier, MAP, "grpc", namespace, model, call);
    }
}
