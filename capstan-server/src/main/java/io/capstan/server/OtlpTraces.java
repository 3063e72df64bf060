package io.capstan.server;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.tracing.Traces;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.Locale;
import java.util.Map;

/**
 * The OpenTelemetry SDK, configured from the standard {@code OTEL_*} variables by its autoconfiguration: traces only
 * (no metrics or logs, which {@code /metrics} and the logs cover), service name {@code capstan}, exported over
 * OTLP/HTTP with the JDK's HTTP client. Only {@link ServerTraces} calls it, and only when an endpoint is set.
 */
final class OtlpTraces {
    /** Defaults that the environment (and system properties) override. */
    private static final Map<String, String> DEFAULTS = Map.of(
            "otel.service.name", "capstan",
            "otel.traces.exporter", "otlp",
            "otel.metrics.exporter", "none",
            "otel.logs.exporter", "none",
            "otel.exporter.otlp.protocol", "http/protobuf");

    private OtlpTraces() {
    }

    static ServerTraces start(Map<String, String> env, String version) {
        for (var name : new String[] {"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"}) {
            var protocol = env.getOrDefault(name, "").strip().toLowerCase(Locale.ROOT);
            if (!protocol.isEmpty() && !protocol.equals("http/protobuf")) {
                throw InvalidSpecException.of(name, ("%s=%s: Capstan exports traces over OTLP/HTTP only; set it to http/protobuf (or unset it)"
                        + " and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port, usually 4318").formatted(name, io.capstan.core.Names.printable(protocol)));
            }
        }
        var sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .addPropertiesSupplier(() -> DEFAULTS)
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
        return new ServerTraces(sdk.getTracer(Traces.SCOPE, version), sdk::close);
    }
}
