package io.capstan.server;

import io.capstan.core.tracing.Traces;
import io.opentelemetry.api.trace.Tracer;
import java.util.Map;

/**
 * Where the server's spans go: exported over OTLP/HTTP when {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or
 * {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}) is set, nowhere otherwise. Without it no class of the OpenTelemetry SDK
 * is loaded: this class names none, and {@link OtlpTraces}, which does, is reached only when it is set.
 *
 * @param close flushes the spans not yet exported and stops the exporter
 */
record ServerTraces(Tracer tracer, AutoCloseable close) {
    static final String ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT";
    static final String TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

    static ServerTraces off() {
        return new ServerTraces(Traces.off(), () -> { });
    }

    static ServerTraces fromEnvironment(Map<String, String> env, String version) {
        if (!isSet(env, ENDPOINT_ENV) && !isSet(env, TRACES_ENDPOINT_ENV)) return off();
        return OtlpTraces.start(env, version);
    }

    private static boolean isSet(Map<String, String> env, String name) {
        var value = env.get(name);
        return value != null && !value.isBlank();
    }
}
