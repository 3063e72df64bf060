package io.capstan.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the wire format against the specification's text rather than against Capstan's own proto:
 * the method path and every field number are written here by hand, as any other client's copy of
 * the proto (KServe's, Triton's) would put them on the wire.
 */
class WireCompatibilityTest {

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
    void typedModelInferUsesTheSpecificationsFieldNumbers() {
        // ModelInferRequest: model_name = 1, id = 3, inputs = 5; InferInputTensor: name = 1,
        // datatype = 2, shape = 3, contents = 5; InferTensorContents: fp32_contents = 6.
        byte[] contents = message(out -> packedFloats(out, 6, 5.1f, 3.5f, 1.4f, 0.2f));
        byte[] input = message(out -> {
            out.writeString(1, "input");
            out.writeString(2, "FP32");
            packedLongs(out, 3, 1, 4);
            out.writeByteArray(5, contents);
        });
        byte[] request = message(out -> {
            out.writeString(1, "iris");
            out.writeString(3, "wire-1");
            out.writeByteArray(5, input);
        });

        Fields response = Fields.parse(call("ModelInfer", request));

        assertThat(response.string(1)).isEqualTo("iris");
        assertThat(response.string(2)).isEqualTo("1");
        assertThat(response.string(3)).isEqualTo("wire-1");
        List<Fields> outputs = response.messages(5);
        assertThat(outputs).hasSize(2);
        assertThat(outputs.get(0).string(1)).isEqualTo("scores");
        assertThat(outputs.get(0).string(2)).isEqualTo("FP32");
        assertThat(outputs.get(0).packedLongs(3)).containsExactly(1L, 3L);
        assertThat(outputs.get(0).messages(5).getFirst().packedFloats(6))
                .containsExactly(new float[] {5.3f, 3.6f, 1.75f}, within(1e-5f));
        assertThat(outputs.get(1).string(1)).isEqualTo("label");
        assertThat(outputs.get(1).string(2)).isEqualTo("INT64");
        assertThat(outputs.get(1).messages(5).getFirst().packedLongs(3)).containsExactly(0L);
    }

    @Test
    void rawModelInferUsesTheSpecificationsFieldNumbers() {
        // ModelInferRequest.raw_input_contents = 7; ModelInferResponse.raw_output_contents = 6.
        ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(new float[] {0, 0, 2, 0});
        byte[] input = message(out -> {
            out.writeString(1, "input");
            out.writeString(2, "FP32");
            packedLongs(out, 3, 1, 4);
        });
        byte[] request = message(out -> {
            out.writeString(1, "iris");
            out.writeByteArray(5, input);
            out.writeByteArray(7, raw.array());
        });

        Fields response = Fields.parse(call("ModelInfer", request));

        assertThat(response.messages(5)).hasSize(2).allSatisfy(o -> assertThat(o.has(5)).isFalse());
        List<ByteString> rawOutputs = response.bytes(6);
        assertThat(rawOutputs).hasSize(2);
        assertThat(rawOutputs.get(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat(8)).isEqualTo(2.3f);
        assertThat(rawOutputs.get(1).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(2L);
    }

    @Test
    void healthAndMetadataUseTheSpecificationsFieldNumbers() {
        assertThat(Fields.parse(call("ServerLive", new byte[0])).varint(1)).isEqualTo(1L);
        assertThat(Fields.parse(call("ServerReady", new byte[0])).varint(1)).isEqualTo(1L);
        assertThat(Fields.parse(call("ModelReady", message(out -> {
            out.writeString(1, "iris");
            out.writeString(2, "1");
        }))).varint(1)).isEqualTo(1L);

        Fields server = Fields.parse(call("ServerMetadata", new byte[0]));
        assertThat(server.string(1)).isEqualTo("capstan");
        assertThat(server.string(2)).isEqualTo("0.1.0-test");
        assertThat(server.bytes(3)).extracting(ByteString::toStringUtf8).containsExactly("model_repository");

        Fields model = Fields.parse(call("ModelMetadata", message(out -> out.writeString(1, "iris"))));
        assertThat(model.string(1)).isEqualTo("iris");
        assertThat(model.bytes(2)).extracting(ByteString::toStringUtf8).containsExactly("1");
        assertThat(model.string(3)).isEqualTo("java");
        Fields input = model.messages(4).getFirst();
        assertThat(input.string(1)).isEqualTo("input");
        assertThat(input.string(2)).isEqualTo("FP32");
        assertThat(input.packedLongs(3)).containsExactly(-1L, 4L);
        assertThat(model.messages(5)).extracting(f -> f.string(1)).containsExactly("scores", "label");
    }

    private static byte[] call(String method, byte[] request) {
        MethodDescriptor<byte[], byte[]> descriptor = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName("inference.GRPCInferenceService/" + method)
                .setRequestMarshaller(new BytesMarshaller())
                .setResponseMarshaller(new BytesMarshaller())
                .build();
        return ClientCalls.blockingUnaryCall(client.channel(), descriptor,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
    }

    interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] message(Writer writer) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            writer.write(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void packedFloats(CodedOutputStream out, int field, float... values) throws IOException {
        out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(values.length * Float.BYTES);
        for (float v : values) {
            out.writeFloatNoTag(v);
        }
    }

    private static void packedLongs(CodedOutputStream out, int field, long... values) throws IOException {
        int size = 0;
        for (long v : values) {
            size += CodedOutputStream.computeInt64SizeNoTag(v);
        }
        out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(size);
        for (long v : values) {
            out.writeInt64NoTag(v);
        }
    }

    /** A message read field by field, with no schema: field number to raw values. */
    private record Fields(List<Integer> numbers, List<Object> values) {

        static Fields parse(byte[] message) {
            Fields fields = new Fields(new ArrayList<>(), new ArrayList<>());
            try {
                CodedInputStream in = CodedInputStream.newInstance(message);
                for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                    fields.numbers.add(WireFormat.getTagFieldNumber(tag));
                    fields.values.add(switch (WireFormat.getTagWireType(tag)) {
                        case WireFormat.WIRETYPE_VARINT -> in.readInt64();
                        case WireFormat.WIRETYPE_LENGTH_DELIMITED -> in.readBytes();
                        default -> throw new IllegalStateException("unexpected wire type in tag " + tag);
                    });
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return fields;
        }

        boolean has(int field) {
            return numbers.contains(field);
        }

        List<Object> all(int field) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < numbers.size(); i++) {
                if (numbers.get(i) == field) {
                    out.add(values.get(i));
                }
            }
            return out;
        }

        long varint(int field) {
            return (Long) all(field).getFirst();
        }

        List<ByteString> bytes(int field) {
            return all(field).stream().map(ByteString.class::cast).toList();
        }

        String string(int field) {
            return bytes(field).getFirst().toStringUtf8();
        }

        List<Fields> messages(int field) {
            return bytes(field).stream().map(b -> parse(b.toByteArray())).toList();
        }

        List<Long> packedLongs(int field) {
            List<Long> out = new ArrayList<>();
            try {
                CodedInputStream in = bytes(field).getFirst().newCodedInput();
                while (!in.isAtEnd()) {
                    out.add(in.readInt64());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out;
        }

        float[] packedFloats(int field) {
            ByteBuffer buffer = bytes(field).getFirst().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[buffer.remaining() / Float.BYTES];
            buffer.asFloatBuffer().get(out);
            return out;
        }
    }

    private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
