package io.capstan.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.google.protobuf.ByteString;
import io.capstan.serving.api.DataType;
import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelInferResponse;
import io.capstan.serving.grpc.proto.ModelMetadataRequest;
import io.capstan.serving.grpc.proto.ModelMetadataResponse;
import io.capstan.serving.grpc.proto.ModelReadyRequest;
import io.capstan.serving.grpc.proto.ServerLiveRequest;
import io.capstan.serving.grpc.proto.ServerMetadataRequest;
import io.capstan.serving.grpc.proto.ServerMetadataResponse;
import io.capstan.serving.grpc.proto.ServerReadyRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The server's lifecycle, health and metadata RPCs, error codes and message size limit, over real gRPC. */
class OipGrpcServerTest {

    private static final int MAX_MESSAGE_BYTES = 64 * 1024;

    private static final TestModels MODELS = new TestModels();
    private static OipGrpcServer server;
    private static GrpcClient client;

    @BeforeAll
    static void start() {
        server = OipGrpcServer.start(MODELS, "127.0.0.1", 0,
                OipGrpcServer.Options.defaults().withMaxMessageBytes(MAX_MESSAGE_BYTES));
        client = new GrpcClient(server.port());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        client.close();
        server.close();
    }

    @Test
    void portZeroBindsAnEphemeralPort() {
        assertThat(server.port()).isPositive().isEqualTo(server.address().getPort());
        assertThat(OipGrpcServer.DEFAULT_PORT).isEqualTo(8081);
    }

    @Test
    void serverIsLiveAndReady() {
        assertThat(client.stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(client.stub().serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    }

    @Test
    void serverMetadataNamesServerVersionAndExtensions() {
        ServerMetadataResponse metadata = client.stub().serverMetadata(ServerMetadataRequest.getDefaultInstance());

        assertThat(metadata.getName()).isEqualTo("capstan");
        assertThat(metadata.getVersion()).isEqualTo("0.1.0-test");
        assertThat(metadata.getExtensionsList()).containsExactly("model_repository");
    }

    @Test
    void modelReadinessPerModel() {
        assertThat(client.stub().modelReady(ModelReadyRequest.newBuilder().setName("iris").build()).getReady()).isTrue();
        assertThat(client.stub().modelReady(ModelReadyRequest.newBuilder().setName("iris").setVersion("1").build())
                .getReady()).isTrue();
        assertThat(client.stub().modelReady(ModelReadyRequest.newBuilder().setName("loading").build()).getReady())
                .isFalse();
        assertStatus(() -> client.stub().modelReady(ModelReadyRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "model 'nope' not found");
    }

    @Test
    void modelMetadataDescribesTensors() {
        ModelMetadataResponse metadata = client.stub().modelMetadata(
                ModelMetadataRequest.newBuilder().setName("iris").build());

        assertThat(metadata.getName()).isEqualTo("iris");
        assertThat(metadata.getVersionsList()).containsExactly("1");
        assertThat(metadata.getPlatform()).isEqualTo("java");
        assertThat(metadata.getInputsList()).singleElement().satisfies(t -> {
            assertThat(t.getName()).isEqualTo("input");
            assertThat(t.getDatatype()).isEqualTo("FP32");
            assertThat(t.getShapeList()).containsExactly(-1L, 4L);
        });
        assertThat(metadata.getOutputsList()).extracting(t -> t.getName() + ":" + t.getDatatype() + t.getShapeList())
                .containsExactly("scores:FP32[-1, 3]", "label:INT64[-1]");
    }

    @Test
    void metadataOfUnknownModelOrVersionIsNotFound() {
        assertStatus(() -> client.stub().modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build()),
                Status.Code.NOT_FOUND, "model 'nope' not found in namespace 'default'");
        assertStatus(() -> client.stub().modelMetadata(
                        ModelMetadataRequest.newBuilder().setName("iris").setVersion("9").build()),
                Status.Code.NOT_FOUND, "model 'iris' has no version '9'");
        assertStatus(() -> client.stub().modelMetadata(ModelMetadataRequest.getDefaultInstance()),
                Status.Code.INVALID_ARGUMENT, "name is empty");
    }

    @Test
    void inferenceFailuresMapToTheirGrpcCodes() {
        assertStatus(() -> infer("nope"), Status.Code.NOT_FOUND, "model 'nope' not found");
        assertStatus(() -> infer("busy"), Status.Code.RESOURCE_EXHAUSTED, "model 'busy' has 64 requests queued");
        assertStatus(() -> infer("loading"), Status.Code.UNAVAILABLE, "model 'loading' is still loading");
        assertStatus(() -> infer("broken"), Status.Code.INTERNAL, "model 'broken' failed: bad weights");
    }

    @Test
    void unexpectedExceptionsAreInternalWithoutTheirDetails() {
        assertStatus(() -> infer("buggy"), Status.Code.INTERNAL, "the server failed unexpectedly (IllegalStateException)");
        assertThatExceptionOfType(StatusRuntimeException.class).isThrownBy(() -> infer("buggy"))
                .satisfies(e -> assertThat(e.getStatus().getDescription()).doesNotContain("secret"));
    }

    @Test
    void messageOverTheConfiguredMaximumIsRefused() {
        ModelInferRequest request = ModelInferTest.echo(ModelInferTest.input("x", DataType.UINT8, MAX_MESSAGE_BYTES))
                .addRawInputContents(ByteString.copyFrom(new byte[MAX_MESSAGE_BYTES]))
                .build();

        assertStatus(() -> client.stub().modelInfer(request), Status.Code.RESOURCE_EXHAUSTED,
                "exceeds maximum size " + MAX_MESSAGE_BYTES);
        assertThat(client.stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    }

    @Test
    void messageJustUnderTheMaximumIsServed() {
        int elements = MAX_MESSAGE_BYTES - 1024;
        ModelInferRequest request = ModelInferTest.echo(ModelInferTest.input("x", DataType.UINT8, elements))
                .addRawInputContents(ByteString.copyFrom(new byte[elements]))
                .build();

        ModelInferResponse response = client.stub().modelInfer(request);

        assertThat(response.getRawOutputContents(0).size()).isEqualTo(elements);
    }

    @Test
    void concurrentCallsAreAllAnswered() throws Exception {
        List<Future<ModelInferResponse>> calls = new ArrayList<>();
        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 64; i++) {
                float feature = i;
                calls.add(callers.submit(() -> client.stub().modelInfer(
                        ModelInferTest.iris(new float[] {feature, 0, 0, 0}, 1).setId("c" + feature).build())));
            }
            for (int i = 0; i < calls.size(); i++) {
                ModelInferResponse response = calls.get(i).get(60, TimeUnit.SECONDS);
                assertThat(response.getId()).isEqualTo("c" + (float) i);
                assertThat(response.getOutputs(0).getContents().getFp32Contents(0)).isEqualTo(i + 0.1f);
            }
        }
    }

    @Test
    void clientDeadlineCancelsASlowCallAndTheServerCarriesOn() throws InterruptedException {
        CountDownLatch gate = new CountDownLatch(1);
        MODELS.slowGate.set(gate);
        try {
            assertStatus(() -> client.stub().withDeadlineAfter(300, TimeUnit.MILLISECONDS).modelInfer(slowRequest()),
                    Status.Code.DEADLINE_EXCEEDED, "");
        } finally {
            gate.countDown();
        }
        assertThat(client.stub().modelInfer(slowRequest()).getOutputsCount()).isEqualTo(1);
    }

    @Test
    void closeLetsCallsInFlightFinish() throws Exception {
        TestModels models = new TestModels();
        OipGrpcServer other = OipGrpcServer.start(models, "127.0.0.1", 0,
                OipGrpcServer.Options.defaults().withShutdownGrace(Duration.ofSeconds(30)));
        try (GrpcClient otherClient = new GrpcClient(other.port());
             ExecutorService background = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<ModelInferResponse> inFlight = background.submit(() -> otherClient.stub().modelInfer(slowRequest()));
            assertThat(models.slowEntered.tryAcquire(30, TimeUnit.SECONDS)).isTrue();

            Future<?> closing = background.submit(other::close);
            models.slowGate.get().countDown();

            assertThat(inFlight.get(30, TimeUnit.SECONDS).getModelName()).isEqualTo("slow");
            closing.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void bindingAPortInUseFailsWithTheAddress() {
        assertThatExceptionOfType(UncheckedIOException.class)
                .isThrownBy(() -> OipGrpcServer.start(new TestModels(), "127.0.0.1", server.port(),
                        OipGrpcServer.Options.defaults()))
                .withMessageContaining("cannot serve OIP gRPC on 127.0.0.1:" + server.port());
    }

    @Test
    void optionsRefuseNonsense() {
        assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> OipGrpcServer.Options.defaults().withMaxMessageBytes(0))
                .withMessageContaining("max message size must be > 0");
        assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> OipGrpcServer.Options.defaults().withShutdownGrace(Duration.ofSeconds(-1)))
                .withMessageContaining("shutdown grace must be >= 0");
        assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> OipGrpcServer.start(new TestModels(), "127.0.0.1", 70_000,
                        OipGrpcServer.Options.defaults()))
                .withMessageContaining("port must be 0..65535, got 70000");
    }

    @Test
    void closedServerRefusesNewCalls() throws InterruptedException {
        OipGrpcServer other = OipGrpcServer.start(new TestModels(), "127.0.0.1", 0,
                OipGrpcServer.Options.defaults().withShutdownGrace(Duration.ofSeconds(2)));
        try (GrpcClient otherClient = new GrpcClient(other.port())) {
            assertThat(otherClient.stub().serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();

            other.close();
            other.close();

            assertStatus(() -> otherClient.stub().serverLive(ServerLiveRequest.getDefaultInstance()),
                    Status.Code.UNAVAILABLE, "");
        }
    }

    @Test
    void serviceKeepsTheSpecificationsFullName() {
        assertThat(GRPCInferenceServiceGrpc.SERVICE_NAME).isEqualTo("inference.GRPCInferenceService");
        assertThat(GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName())
                .isEqualTo("inference.GRPCInferenceService/ModelInfer");
    }

    private static ModelInferRequest slowRequest() {
        return ModelInferRequest.newBuilder().setModelName("slow")
                .addInputs(ModelInferTest.input("input", DataType.FP32, 0)).build();
    }

    private static ModelInferResponse infer(String model) {
        return client.stub().modelInfer(ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferTest.input("input", DataType.FP32, 0, 4)).build());
    }

    private static void assertStatus(Runnable call, Status.Code code, String message) {
        assertThatExceptionOfType(StatusRuntimeException.class)
                .isThrownBy(call::run)
                .satisfies(e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }
}
