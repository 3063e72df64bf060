package io.capstan.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import com.google.protobuf.ByteString;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.grpc.proto.InferParameter;
import io.capstan.serving.grpc.proto.InferTensorContents;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferInputTensor;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import io.capstan.serving.grpc.proto.ModelInferResponse;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** ModelInfer over a real gRPC connection: every datatype in both wire forms, shapes, outputs, ids, parameters. */
class ModelInferTest {

    private static final TestModels MODELS = new TestModels();
    private static OipGrpcServer server;
    private static GrpcClient client;

    @BeforeAll
    static void start() {
        server = OipGrpcServer.start(MODELS, "127.0.0.1", 0, OipGrpcServer.Options.defaults());
        client = new GrpcClient(server.port());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        client.close();
        server.close();
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = "FP16", mode = EnumSource.Mode.EXCLUDE)
    void typedContentsRoundTripEveryDatatype(DataType type) {
        TensorSample sample = TensorSample.of(type);
        ModelInferRequest request = echo(input("x", type, TensorSample.SHAPE).setContents(sample.typed())).build();

        ModelInferResponse response = client.stub().modelInfer(request);

        assertThat(decodedInput()).satisfies(t -> {
            assertThat(t.datatype()).isEqualTo(type);
            assertThat(t.shape()).containsExactly(2, 3);
            assertThat(Objects.deepEquals(t.data(), sample.carrier())).as("decoded data of %s", type).isTrue();
        });
        assertThat(response.getRawOutputContentsCount()).isZero();
        assertThat(response.getOutputs(0).getDatatype()).isEqualTo(type.name());
        assertThat(response.getOutputs(0).getShapeList()).containsExactly(2L, 3L);
        assertThat(response.getOutputs(0).getContents()).isEqualTo(sample.typed());
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void rawContentsRoundTripEveryDatatype(DataType type) {
        TensorSample sample = TensorSample.of(type);
        ModelInferRequest request = echo(input("x", type, TensorSample.SHAPE)).addRawInputContents(sample.raw()).build();

        ModelInferResponse response = client.stub().modelInfer(request);

        assertThat(Objects.deepEquals(decodedInput().data(), sample.carrier())).as("decoded data of %s", type).isTrue();
        assertThat(response.getOutputs(0).hasContents()).isFalse();
        assertThat(response.getOutputs(0).getDatatype()).isEqualTo(type.name());
        assertThat(response.getRawOutputContentsList()).containsExactly(sample.raw());
    }

    @Test
    void scalarAndEmptyAndHigherRankShapesPassThrough() {
        ModelInferRequest request = echo(input("scalar", DataType.INT64).setContents(
                        InferTensorContents.newBuilder().addInt64Contents(42)))
                .addInputs(input("empty", DataType.FP32, 0, 4))
                .addInputs(input("cube", DataType.INT32, 2, 1, 2).setContents(
                        InferTensorContents.newBuilder().addIntContents(1).addIntContents(2).addIntContents(3)
                                .addIntContents(4)))
                .build();

        ModelInferResponse response = client.stub().modelInfer(request);

        assertThat(response.getOutputsList()).extracting(o -> o.getName() + o.getShapeList())
                .containsExactly("scalar[]", "empty[0, 4]", "cube[2, 1, 2]");
        assertThat(response.getOutputs(0).getContents().getInt64ContentsList()).containsExactly(42L);
        assertThat(response.getOutputs(1).getContents().getFp32ContentsCount()).isZero();
        assertThat(response.getOutputs(2).getContents().getIntContentsList()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void affineModelComputesScoresAndLabels() {
        ModelInferResponse response = client.stub().modelInfer(iris(
                new float[] {1, 0, 0, 0, 0, 0, 1, 2}, 2).build());

        assertThat(response.getModelName()).isEqualTo("iris");
        assertThat(response.getModelVersion()).isEqualTo("1");
        assertThat(response.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName)
                .containsExactly("scores", "label");
        assertThat(response.getOutputs(0).getContents().getFp32ContentsList())
                .containsExactly(1.1f, 0.2f, 0.3f, 1.1f, -0.8f, 1.8f);
        assertThat(response.getOutputs(1).getContents().getInt64ContentsList()).containsExactly(0L, 2L);
    }

    @Test
    void requestedOutputsAreReturnedAloneAndInRequestedOrder() {
        ModelInferResponse onlyLabel = client.stub().modelInfer(iris(new float[] {0, 0, 5, 0}, 1)
                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("label")).build());
        ModelInferResponse reversed = client.stub().modelInfer(iris(new float[] {0, 0, 5, 0}, 1)
                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("label"))
                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("scores")).build());

        assertThat(onlyLabel.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName)
                .containsExactly("label");
        assertThat(onlyLabel.getOutputs(0).getContents().getInt64ContentsList()).containsExactly(2L);
        assertThat(reversed.getOutputsList()).extracting(ModelInferResponse.InferOutputTensor::getName)
                .containsExactly("label", "scores");
    }

    @Test
    void rawInputsGetRawOutputsInOutputOrder() {
        ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(new float[] {0, 3, 0, 0});
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("iris")
                .addInputs(input("input", DataType.FP32, 1, 4))
                .addRawInputContents(ByteString.copyFrom(raw))
                .build();

        ModelInferResponse response = client.stub().modelInfer(request);

        assertThat(response.getRawOutputContentsCount()).isEqualTo(2);
        float[] scores = new float[3];
        response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(scores);
        assertThat(scores).containsExactly(0.1f, 3.2f, 0.3f);
        assertThat(response.getRawOutputContents(1).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getLong())
                .isEqualTo(1L);
    }

    @Test
    void fp16OutputsComeRawEvenForTypedRequests() {
        ModelInferRequest request = ModelInferRequest.newBuilder().setModelName("half")
                .addInputs(input("h", DataType.FP32, 2).setContents(
                        InferTensorContents.newBuilder().addFp32Contents(1.5f).addFp32Contents(-2f)))
                .build();

        ModelInferResponse response = client.stub().modelInfer(request);

        assertThat(response.getOutputs(0).getDatatype()).isEqualTo("FP16");
        assertThat(response.getOutputs(0).hasContents()).isFalse();
        ByteBuffer raw = response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        assertThat(Float.float16ToFloat(raw.getShort())).isEqualTo(1.5f);
        assertThat(Float.float16ToFloat(raw.getShort())).isEqualTo(-2f);
    }

    @Test
    void idAndParametersTravelBothWays() {
        ModelInferRequest request = echo(input("x", DataType.BOOL, 1)
                        .setContents(InferTensorContents.newBuilder().addBoolContents(true))
                        .putParameters("layout", InferParameter.newBuilder().setStringParam("NHWC").build()))
                .setId("req-17")
                .putParameters("priority", InferParameter.newBuilder().setInt64Param(3).build())
                .putParameters("sampled", InferParameter.newBuilder().setBoolParam(true).build())
                .putParameters("temperature", InferParameter.newBuilder().setDoubleParam(0.5).build())
                .putParameters("seed", InferParameter.newBuilder().setUint64Param(7).build())
                .build();

        ModelInferResponse response = client.stub().modelInfer(request);

        InferenceRequest seen = MODELS.lastEcho.get();
        assertThat(seen.id()).isEqualTo("req-17");
        assertThat(seen.parameters()).containsOnly(
                entry("priority", 3L),
                entry("sampled", true),
                entry("temperature", 0.5),
                entry("seed", 7L));
        assertThat(seen.inputs().getFirst().parameters()).containsEntry("layout", "NHWC");
        assertThat(response.getId()).isEqualTo("req-17");
        assertThat(response.getModelName()).isEqualTo("echo");
        assertThat(response.getOutputs(0).getParametersMap().get("layout").getStringParam()).isEqualTo("NHWC");
        assertThat(response.getParametersMap().get("namespace").getStringParam()).isEqualTo("default");
    }

    @Test
    void namespaceHeaderAddressesAnotherNamespace() {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("capstan-namespace", Metadata.ASCII_STRING_MARSHALLER), "team-a");

        ModelInferResponse response = client.stub()
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .modelInfer(echo(input("x", DataType.INT32, 1)
                        .setContents(InferTensorContents.newBuilder().addIntContents(5))).build());

        assertThat(response.getParametersMap().get("namespace").getStringParam()).isEqualTo("team-a");
    }

    private static Tensor decodedInput() {
        return MODELS.lastEcho.get().inputs().getFirst();
    }

    static ModelInferRequest.Builder echo(InferInputTensor.Builder input) {
        return ModelInferRequest.newBuilder().setModelName("echo").addInputs(input);
    }

    static ModelInferRequest.Builder iris(float[] rows, int count) {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        for (float v : rows) {
            contents.addFp32Contents(v);
        }
        return ModelInferRequest.newBuilder().setModelName("iris")
                .addInputs(input("input", DataType.FP32, count, 4).setContents(contents));
    }

    static InferInputTensor.Builder input(String name, DataType type, long... shape) {
        return input(name, type.name(), shape);
    }

    static InferInputTensor.Builder input(String name, String datatype, long... shape) {
        InferInputTensor.Builder input = InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
        for (long dimension : shape) {
            input.addShape(dimension);
        }
        return input;
    }
}
