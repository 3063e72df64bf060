package io.capstan.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.serving.api.DataType;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ModelInfer calls over a real gRPC connection become {@code capstan.inference} spans, children of their traceparent. */
class InferenceGrpcTracesTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String PARENT_ID = "00f067aa0ba902b7";

    private final InMemorySpanExporter exported = InMemorySpanExporter.create();
    private SdkTracerProvider provider;
    private OipGrpcServer server;
    private GrpcClient client;

    @BeforeEach
    void start() {
        provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build();
        server = OipGrpcServer.start(new TestModels(), "127.0.0.1", 0,
                OipGrpcServer.Options.defaults().withTracer(provider.get("io.capstan")));
        client = new GrpcClient(server.port());
    }

    @AfterEach
    void stop() throws InterruptedException {
        client.close();
        server.close();
        provider.close();
    }

    @Test
    void aCallWithATraceparentIsAServerSpanUnderItsCaller() {
        var headers = new Metadata();
        headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-" + TRACE_ID + "-" + PARENT_ID + "-01");
        headers.put(Metadata.Key.of("capstan-namespace", Metadata.ASCII_STRING_MARSHALLER), "team-a");

        client.stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .modelInfer(ModelInferTest.echo(ModelInferTest.input("x", DataType.INT32, 1)
                        .setContents(io.capstan.serving.grpc.proto.InferTensorContents.newBuilder().addIntContents(7))).build());

        var span = onlySpan();
        assertThat(span.getName()).isEqualTo("capstan.inference");
        assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(span.getTraceId()).isEqualTo(TRACE_ID);
        assertThat(span.getParentSpanId()).isEqualTo(PARENT_ID);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("capstan.model"))).isEqualTo("echo");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("capstan.namespace"))).isEqualTo("team-a");
        assertThat(span.getAttributes().get(AttributeKey.stringKey("capstan.inference.protocol"))).isEqualTo("grpc");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
    }

    @Test
    void aCallWithoutOneStartsATraceAndAFailedCallSaysWhy() {
        assertThatThrownBy(() -> client.stub().modelInfer(ModelInferTest.echo(ModelInferTest.input("x", DataType.INT32, 1)
                        .setContents(io.capstan.serving.grpc.proto.InferTensorContents.newBuilder().addIntContents(7)))
                .setModelName("no-such-model").build())).isInstanceOf(StatusRuntimeException.class).hasMessageContaining("NOT_FOUND");

        var span = onlySpan();
        assertThat(span.getParentSpanContext().isValid()).isFalse();
        assertThat(span.getAttributes().get(AttributeKey.stringKey("capstan.model"))).isEqualTo("no-such-model");
        assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(span.getAttributes().get(AttributeKey.stringKey("capstan.inference.error"))).isNotBlank();
    }

    @Test
    void aMalformedTraceparentIsIgnoredNotFatal() {
        var headers = new Metadata();
        headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), "00-not-a-trace-<script>");

        var response = client.stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .modelInfer(ModelInferTest.echo(ModelInferTest.input("x", DataType.INT32, 1)
                        .setContents(io.capstan.serving.grpc.proto.InferTensorContents.newBuilder().addIntContents(7))).build());

        assertThat(response.getOutputsCount()).isEqualTo(1);
        assertThat(onlySpan().getParentSpanContext().isValid()).isFalse();
    }

    private SpanData onlySpan() {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<SpanData> spans = exported.getFinishedSpanItems();
        while (spans.isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            spans = exported.getFinishedSpanItems();
        }
        assertThat(spans).hasSize(1);
        return spans.getFirst();
    }
}
