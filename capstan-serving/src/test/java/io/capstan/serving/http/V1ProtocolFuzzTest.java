package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.ModelMetadata;
import io.capstan.serving.api.ServerMetadata;
import io.capstan.serving.api.TensorMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile KServe V1 bodies ({@code /v1/models/x:predict}): any bytes either turn into a predict call and a JSON answer
 * or are refused with an {@link InvalidInputException} (400). The first byte picks the datatype of the model's input,
 * so every stacking path is reached. The model answers with the tensor it was given, so what it predicts must be the
 * instances, each value as the datatype holds it: a value the datatype cannot hold must be refused, not changed.
 */
class V1ProtocolFuzzTest {
    private static final DataType[] TYPES = DataType.values();

    // Entries are in libFuzzer's dictionary syntax, hence the doubled escapes.
    @MethodSource("seeds")
    @DictionaryEntries({"\\\"instances\\\"", "\\\"inputs\\\"", "[[", "]]", "[]", "1e309", "-0", "9223372036854775808", "true",
            "null", "\\\"s\\\"", "{}", ":", ","})
    @FuzzTest
    void predictsOrRefusesWithA400(byte[] input) {
        if (input.length == 0) return;
        var type = TYPES[Byte.toUnsignedInt(input[0]) % TYPES.length];
        var body = Arrays.copyOfRange(input, 1, input.length);
        var protocol = new V1Protocol(new Echo(type));
        byte[] answer;
        try {
            answer = protocol.predict("default", "m", body);
        } catch (InvalidInputException e) {
            assertThat(e.getMessage()).isNotBlank();
            return;
        }
        // The model echoes its input, so the predictions are the instances, each value as the datatype holds it.
        var request = readTree(body);
        var sent = leaves(request.has("instances") ? request.get("instances") : request.get("inputs"));
        var received = leaves(readTree(answer).get("predictions"));
        assertThat(received).as("predictions of %s", type).hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
            var in = sent.get(i);
            var out = received.get(i);
            switch (type) {
                case FP32 -> assertThat((float) number(out)).as("element %d", i).isEqualTo((float) in.asDouble());
                case FP64 -> assertThat(number(out)).as("element %d", i).isEqualTo(in.asDouble());
                case INT32, INT64 -> assertThat(out.bigIntegerValue()).as("element %d", i).isEqualTo(in.bigIntegerValue());
                default -> assertThat(out).as("element %d", i).isEqualTo(in);
            }
        }
    }

    /** A number as the answer writes it; one too large for the datatype is IEEE's infinity, written as a string. */
    private static double number(JsonNode node) {
        return node.isTextual() ? Double.parseDouble(node.asText()) : node.doubleValue();
    }

    private static JsonNode readTree(byte[] json) {
        try {
            return Json.json().readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<JsonNode> leaves(JsonNode node) {
        var out = new ArrayList<JsonNode>();
        collect(node, out);
        return out;
    }

    private static void collect(JsonNode node, List<JsonNode> into) {
        if (node.isArray()) node.forEach(child -> collect(child, into));
        else into.add(node);
    }

    static Stream<byte[]> seeds() {
        return Stream.of(
                        new Seed(DataType.FP32, "{\"instances\":[[5.1,3.5,1.4,0.2],[6.2,2.9,4.3,1.3]]}"),
                        new Seed(DataType.FP64, "{\"inputs\":[[[1,2],[3,4]],[[5,6],[7,8]]]}"),
                        new Seed(DataType.INT64, "{\"instances\":[1,2,3]}"),
                        new Seed(DataType.INT32, "{\"instances\":[[2147483647],[-2147483648]]}"),
                        new Seed(DataType.BYTES, "{\"instances\":[\"a\",\"b\"]}"),
                        new Seed(DataType.BOOL, "{\"instances\":[[true,false]]}"),
                        new Seed(DataType.UINT8, "{\"instances\":[[1]]}"))
                .map(s -> {
                    var json = s.json().getBytes(StandardCharsets.UTF_8);
                    var bytes = new byte[json.length + 1];
                    bytes[0] = (byte) s.type().ordinal();
                    System.arraycopy(json, 0, bytes, 1, json.length);
                    return bytes;
                });
    }

    private record Seed(DataType type, String json) {
    }

    /** A model with one input of the given datatype that answers with its input. */
    private record Echo(DataType type) implements InferenceEndpoint {
        @Override
        public boolean serverLive() {
            return true;
        }

        @Override
        public boolean serverReady() {
            return true;
        }

        @Override
        public ServerMetadata serverMetadata() {
            return new ServerMetadata("capstan", "test", List.of());
        }

        @Override
        public boolean modelReady(String namespace, String name, String version) {
            return true;
        }

        @Override
        public List<String> modelNames(String namespace) {
            return List.of("m");
        }

        @Override
        public ModelMetadata modelMetadata(String namespace, String name, String version) {
            return new ModelMetadata("m", List.of("1"), "java", List.of(new TensorMetadata("x", type, List.of(-1L))),
                    List.of(new TensorMetadata("y", type, List.of(-1L))), Map.of());
        }

        @Override
        public InferenceResponse infer(String namespace, String name, String version, InferenceRequest request) {
            return new InferenceResponse("m", "1", request.id(), Map.of(), request.inputs());
        }
    }
}
