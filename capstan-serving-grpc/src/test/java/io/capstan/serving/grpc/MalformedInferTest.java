package io.capstan.serving.grpc;

import static io.capstan.serving.grpc.ModelInferTest.echo;
import static io.capstan.serving.grpc.ModelInferTest.input;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.google.protobuf.ByteString;
import io.capstan.serving.api.DataType;
import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc;
import io.capstan.serving.grpc.proto.InferParameter;
import io.capstan.serving.grpc.proto.InferTensorContents;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import io.capstan.serving.grpc.proto.ModelInferResponse;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Malformed and hostile ModelInfer requests: each gets INVALID_ARGUMENT with a sentence naming the problem. */
class MalformedInferTest {

    private static OipGrpcServer server;
    private static GrpcClient client;

    @BeforeAll
    static void start() {
        server = OipGrpcServer.start(new TestModels(), "127.0.0.1", 0, OipGrpcServer.Options.defaults());
        client = new GrpcClient(server.port());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        client.close();
        server.close();
    }

    @Test
    void rawDataShorterThanTheShapeNeeds() {
        assertInvalid(echo(input("x", DataType.FP32, 1, 4)).addRawInputContents(ByteString.copyFrom(new byte[12])),
                "inputs[0] ('x'): raw content has 12 bytes but 4 FP32 elements need 16");
    }

    @Test
    void typedDataLongerThanTheShapeNeeds() {
        assertInvalid(echo(input("x", DataType.INT64, 2).setContents(InferTensorContents.newBuilder()
                        .addInt64Contents(1).addInt64Contents(2).addInt64Contents(3))),
                "inputs[0] ('x'): the shape needs 2 elements but int64_contents has 3");
    }

    @Test
    void inputWithoutAnyData() {
        assertInvalid(echo(input("x", DataType.FP32, 1, 4)),
                "inputs[0] ('x'): the shape needs 4 elements but fp32_contents has 0");
    }

    @Test
    void unknownDatatype() {
        assertInvalid(echo(input("x", "FP128", 1)),
                "inputs[0] ('x'): datatype 'FP128' is not an OIP datatype; use one of [BOOL, UINT8");
    }

    @Test
    void lowerCaseDatatypeIsNotAccepted() {
        assertInvalid(echo(input("x", "fp32", 1)), "datatype 'fp32' is not an OIP datatype");
    }

    @Test
    void rawAndTypedContentsMixed() {
        ModelInferRequest.Builder request = echo(input("a", DataType.INT32, 1)
                .setContents(InferTensorContents.newBuilder().addIntContents(1)))
                .addInputs(input("b", DataType.INT32, 1))
                .addRawInputContents(ByteString.copyFrom(new byte[4]))
                .addRawInputContents(ByteString.copyFrom(new byte[4]));
        assertInvalid(request, "inputs[0] ('a'): contents is set and so is raw_input_contents");
    }

    @Test
    void fewerRawEntriesThanInputs() {
        ModelInferRequest.Builder request = echo(input("a", DataType.INT32, 1))
                .addInputs(input("b", DataType.INT32, 1))
                .addRawInputContents(ByteString.copyFrom(new byte[4]));
        assertInvalid(request, "raw_input_contents has 1 entries but there are 2 inputs");
    }

    @Test
    void dataInTheFieldOfAnotherDatatype() {
        assertInvalid(echo(input("x", DataType.FP32, 1).setContents(InferTensorContents.newBuilder().addFp64Contents(1))),
                "inputs[0] ('x'): contents of a FP32 tensor go in fp32_contents, but fp64_contents is set");
    }

    @Test
    void typedFp16IsRefused() {
        assertInvalid(echo(input("x", DataType.FP16, 1).setContents(InferTensorContents.newBuilder().addIntContents(1))),
                "FP16 has no typed contents; send FP16 tensors in raw_input_contents");
    }

    @Test
    void int8ValueOutOfRange() {
        assertInvalid(echo(input("x", DataType.INT8, 2).setContents(
                        InferTensorContents.newBuilder().addIntContents(5).addIntContents(300))),
                "inputs[0] ('x'): element 1 is 300, outside INT8's range [-128, 127]");
    }

    @Test
    void uint16ValueOutOfRange() {
        assertInvalid(echo(input("x", DataType.UINT16, 1).setContents(
                        InferTensorContents.newBuilder().addUintContents(70_000))),
                "element 0 is 70000, outside UINT16's range [0, 65535]");
    }

    @Test
    void rawBoolThatIsNeitherZeroNorOne() {
        assertInvalid(echo(input("x", DataType.BOOL, 2)).addRawInputContents(ByteString.copyFrom(new byte[] {1, 7})),
                "raw BOOL element 1 is 7; BOOL elements are one byte, 0 or 1");
    }

    @Test
    void negativeDimension() {
        assertInvalid(echo(input("x", DataType.FP32, -1, 4)), "inputs[0] ('x').shape: shape [-1, 4] has a negative dimension");
    }

    @Test
    void shapeWhoseElementCountOverflows() {
        assertInvalid(echo(input("x", DataType.FP32, 1L << 31, 1L << 31, 1L << 31))
                        .addRawInputContents(ByteString.copyFrom(new byte[16])),
                "inputs[0] ('x').shape: shape [2147483648, 2147483648, 2147483648] is too large");
    }

    @Test
    void shapeWhoseProductOverflowsALongIsTooLargeNotAnInternalError() {
        // Found by InferRequestDecoderFuzzTest: 3 x 2^62 overflowed the element count's long and was answered INTERNAL.
        assertInvalid(echo(input("x", DataType.FP32, 3, 1L << 62)).addRawInputContents(ByteString.copyFrom(new byte[16])),
                "inputs[0] ('x').shape: shape [3, 4611686018427387904] is too large");
    }

    @Test
    void hugeBytesShapeWithTinyDataIsRefusedBeforeAllocating() {
        assertInvalid(echo(input("x", DataType.BYTES, 1_000_000_000L)).addRawInputContents(ByteString.copyFrom(new byte[8])),
                "raw content has 8 bytes, too few for 1000000000 BYTES elements");
    }

    @Test
    void bytesElementLongerThanTheRemainingData() {
        ByteBuffer raw = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7FFF_FFFF).putInt(0);
        assertInvalid(echo(input("x", DataType.BYTES, 1)).addRawInputContents(ByteString.copyFrom(raw.array())),
                "raw BYTES element 0 declares 2147483647 bytes but only 4 remain");
    }

    @Test
    void bytesContentWithTrailingGarbage() {
        ByteBuffer raw = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putInt(1).put((byte) 'a').put((byte) 'b');
        assertInvalid(echo(input("x", DataType.BYTES, 1)).addRawInputContents(ByteString.copyFrom(raw.array())),
                "raw BYTES content has 1 bytes left over after 1 elements");
    }

    @Test
    void duplicateInputNames() {
        InferTensorContents one = InferTensorContents.newBuilder().addIntContents(1).build();
        assertInvalid(echo(input("x", DataType.INT32, 1).setContents(one))
                        .addInputs(input("x", DataType.INT32, 1).setContents(one)),
                "inputs[1]: name 'x' is already used by inputs[0]");
    }

    @Test
    void emptyInputName() {
        assertInvalid(echo(input("", DataType.INT32, 1)), "inputs[0].name is empty");
    }

    @Test
    void noInputs() {
        assertInvalid(ModelInferRequest.newBuilder().setModelName("echo"), "the request has no inputs");
    }

    @Test
    void emptyModelName() {
        assertInvalid(ModelInferRequest.newBuilder().addInputs(input("x", DataType.INT32, 0)), "model_name is empty");
    }

    @Test
    void parameterWithoutValue() {
        assertInvalid(echo(input("x", DataType.INT32, 0)).putParameters("p", InferParameter.getDefaultInstance()),
                "parameters['p'] has no value");
    }

    @Test
    void unsignedParameterBeyondLongRange() {
        assertInvalid(echo(input("x", DataType.INT32, 0)).putParameters("p",
                        InferParameter.newBuilder().setUint64Param(-1L).build()),
                "parameters['p']: uint64 value 18446744073709551615 is larger than 9223372036854775807");
    }

    @Test
    void unknownRequestedOutput() {
        assertInvalid(ModelInferTest.iris(new float[] {1, 2, 3, 4}, 1)
                        .addOutputs(InferRequestedOutputTensor.newBuilder().setName("probabilities")),
                "outputs[0]: model 'iris' has no output 'probabilities'; its outputs are [scores, label]");
    }

    @Test
    void modelRejectsAnInputThatDoesNotFitIt() {
        assertInvalid(ModelInferTest.iris(new float[] {1, 2, 3}, 1).setInputs(0,
                        input("input", DataType.FP32, 1, 3).setContents(InferTensorContents.newBuilder()
                                .addFp32Contents(1).addFp32Contents(2).addFp32Contents(3))),
                "model 'iris': input must be FP32 [N,4], got FP32 [1, 3]");
    }

    @Test
    void garbageBytesOnTheWireFailTheCallAndNothingElse() {
        // grpc-java answers a message that does not parse before any Capstan code runs; it says
        // UNKNOWN, "Application error processing RPC". What matters is that the server carries on.
        var method = GRPCInferenceServiceGrpc.getModelInferMethod().toBuilder(
                new RawBytesMarshaller(), ProtoUtils.marshaller(ModelInferResponse.getDefaultInstance())).build();
        byte[] garbage = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x01};

        assertThatExceptionOfType(StatusRuntimeException.class)
                .isThrownBy(() -> ClientCalls.blockingUnaryCall(client.channel(), method,
                        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), garbage))
                .satisfies(e -> assertThat(e.getStatus().getCode()).isNotEqualTo(Status.Code.OK));
        assertThat(client.stub().modelInfer(ModelInferTest.iris(new float[] {1, 0, 0, 0}, 1).build()).getOutputsCount())
                .isEqualTo(2);
    }

    private static void assertInvalid(ModelInferRequest.Builder request, String message) {
        assertThatExceptionOfType(StatusRuntimeException.class)
                .isThrownBy(() -> client.stub().modelInfer(request.build()))
                .satisfies(e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }

    /** Sends a byte array as the request message as it is. */
    private static final class RawBytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            throw new UnsupportedOperationException("requests only");
        }
    }
}
