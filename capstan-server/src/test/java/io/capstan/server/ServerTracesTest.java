package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.tracing.Traces;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerTracesTest {
    @Test
    void withoutAnEndpointTheTracerIsTheNoOpOne() {
        assertThat(Traces.isOn(ServerTraces.fromEnvironment(Map.of(), "1").tracer())).isFalse();
        assertThat(Traces.isOn(ServerTraces.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", " "), "1").tracer())).isFalse();
    }

    @Test
    void aProtocolOtherThanOtlpHttpIsRefusedNamingTheVariable() {
        assertThatThrownBy(() -> ServerTraces.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317",
                "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), "1"))
                .isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("OTEL_EXPORTER_OTLP_PROTOCOL=grpc").hasMessageContaining("http/protobuf").hasMessageContaining("4318");
        assertThatThrownBy(() -> ServerTraces.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4317/v1/traces",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"), "1"))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    }
}
