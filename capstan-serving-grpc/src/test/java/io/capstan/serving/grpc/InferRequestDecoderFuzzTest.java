package io.capstan.serving.grpc;

import static io.capstan.serving.grpc.ModelInferTest.echo;
import static io.capstan.serving.grpc.ModelInferTest.input;
import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.grpc.proto.InferParameter;
import io.capstan.serving.grpc.proto.InferTensorContents;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile binary OIP requests: any bytes, as the protobuf ModelInferRequest that the gRPC endpoint receives, either
 * fail to parse as protobuf, decode into a request (raw little-endian tensor contents or typed contents), or are
 * refused with an {@link InvalidInputException} (INVALID_ARGUMENT). Any other exception, a hang past the timeout, or an
 * allocation the input's size does not justify (the fork's heap is 1 GiB) is a finding.
 */
class InferRequestDecoderFuzzTest {

    @MethodSource("seeds")
    @FuzzTest
    void decodesOrRefusesWithInvalidArgument(byte[] message) {
        ModelInferRequest request;
        try {
            request = ModelInferRequest.parseFrom(message);
        } catch (InvalidProtocolBufferException e) {
            return; // gRPC refuses the call before it reaches the service
        }
        try {
            var decoded = InferRequestDecoder.decode(request);
            assertThat(decoded.inputs()).hasSize(request.getInputsCount());
            for (var tensor : decoded.inputs()) {
                if (request.getRawInputContentsCount() > 0) assertThat(RawContents.encode(tensor)).isNotNull();
            }
        } catch (InvalidInputException e) {
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    static Stream<byte[]> seeds() {
        var raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(5.1f).putFloat(3.5f).putFloat(1.4f).putFloat(0.2f);
        var strings = ByteBuffer.allocate(11).order(ByteOrder.LITTLE_ENDIAN).putInt(2).put("hi".getBytes()).putInt(1).put((byte) 'x');
        return Stream.of(
                        echo(input("x", DataType.FP32, 1, 4)).addRawInputContents(ByteString.copyFrom(raw.array())),
                        echo(input("s", DataType.BYTES, 2)).addRawInputContents(ByteString.copyFrom(strings.array())),
                        echo(input("b", DataType.BOOL, 2)).addRawInputContents(ByteString.copyFrom(new byte[] {0, 1})),
                        echo(input("h", DataType.FP16, 1)).addRawInputContents(ByteString.copyFrom(new byte[] {0, 60})),
                        echo(input("i", DataType.INT64, 2).setContents(InferTensorContents.newBuilder().addInt64Contents(1).addInt64Contents(-2)))
                                .setId("r1").putParameters("k", InferParameter.newBuilder().setInt64Param(3).build())
                                .addOutputs(InferRequestedOutputTensor.newBuilder().setName("y")),
                        echo(input("u", DataType.UINT8, 1, 2).setContents(InferTensorContents.newBuilder().addUintContents(7).addUintContents(255))),
                        echo(input("t", DataType.BYTES, 1).setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8("é")))))
                .map(b -> b.build().toByteArray());
    }
}
