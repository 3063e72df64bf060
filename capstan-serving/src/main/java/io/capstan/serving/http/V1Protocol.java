package io.capstan.serving.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.capstan.core.Json;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * KServe's V1 protocol: {@code {"instances": [...]}} (or {@code "inputs"}) in, {@code
 * {"predictions": [...]}} out. Each instance is one row of the model's first input; rows are
 * stacked into one tensor of the input's datatype.
 */
final class V1Protocol {
    private final InferenceEndpoint endpoint;

    V1Protocol(InferenceEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    byte[] model(String namespace, String name) {
        boolean ready = endpoint.modelReady(namespace, name, null);
        return OipJson.write(g -> {
            g.writeStartObject();
            g.writeStringField("name", name);
            g.writeBooleanField("ready", ready);
            g.writeEndObject();
        });
    }

    /** KServe's V1 model list: {@code {"models": ["name", ...]}}. */
    byte[] models(String namespace) {
        var names = endpoint.modelNames(namespace);
        return OipJson.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("models");
            for (var name : names) g.writeString(name);
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    byte[] predict(String namespace, String name, byte[] body) {
        var metadata = endpoint.modelMetadata(namespace, name, null);
        if (metadata.inputs().isEmpty()) return forward(namespace, name, body);
        JsonNode root;
        try {
            root = Json.json().readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidInputException("the body could not be read: " + e.getMessage());
        }
        if (root == null || !root.isObject()) throw new InvalidInputException("the body must be a JSON object with \"instances\"");
        String field = root.has("instances") ? "instances" : "inputs";
        var instances = root.get(field);
        if (instances == null || !instances.isArray()) {
            throw new InvalidInputException("instances: the body needs \"instances\" (or \"inputs\") as a list of rows");
        }
        if (instances.isEmpty()) throw new InvalidInputException(field + ": is empty");
        var input = metadata.inputs().getFirst();
        var tensor = stack(field, (ArrayNode) instances, input);
        var response = endpoint.infer(namespace, name, null, InferenceRequest.of(tensor));
        return OipJson.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("predictions");
            if (!response.outputs().isEmpty()) {
                var out = response.outputs().getFirst();
                writeRows(g, out);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    /**
     * A model that declares no inputs is a model server process that answers V1 itself: the body goes to it as it
     * is, through the revision (admission, canary, metrics), and its answer comes back as it is.
     */
    private byte[] forward(String namespace, String name, byte[] body) {
        var tensor = new Tensor(io.capstan.serving.runtime.LoadedModel.V1_BODY, DataType.BYTES, new long[] {1}, new byte[][] {body});
        var response = endpoint.infer(namespace, name, null, InferenceRequest.of(tensor));
        var answer = response.output(io.capstan.serving.runtime.LoadedModel.V1_BODY).orElseThrow(
                () -> new InvalidInputException("model '" + name + "' declares no inputs"));
        return answer.bytes()[0];
    }

    /** Rows as JSON: scalars for shape [n], lists for [n, k], and so on. */
    private static void writeRows(com.fasterxml.jackson.core.JsonGenerator g, Tensor out) throws IOException {
        long[] shape = out.shape();
        if (shape.length <= 1) {
            var flat = new ElementWriter(out);
            for (int i = 0; i < out.size(); i++) flat.write(g, i);
            return;
        }
        var writer = new ElementWriter(out);
        writeNested(g, writer, shape, 1, new int[] {0}, (int) shape[0]);
    }

    private static void writeNested(com.fasterxml.jackson.core.JsonGenerator g, ElementWriter writer, long[] shape,
                                    int dim, int[] index, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            if (dim == shape.length) {
                writer.write(g, index[0]++);
            } else {
                g.writeStartArray();
                writeNested(g, writer, shape, dim + 1, index, (int) shape[dim]);
                g.writeEndArray();
            }
        }
    }

    /** Writes single elements of a tensor. */
    private record ElementWriter(Tensor tensor) {
        void write(com.fasterxml.jackson.core.JsonGenerator g, int i) throws IOException {
            switch (tensor.datatype()) {
                case FP32 -> g.writeNumber(tensor.floats()[i]);
                case FP64 -> g.writeNumber(tensor.doubles()[i]);
                case INT64, UINT64 -> g.writeNumber(tensor.longs()[i]);
                case INT32, UINT32 -> g.writeNumber(tensor.ints()[i]);
                case INT16, UINT16 -> g.writeNumber(((short[]) tensor.data())[i]);
                case FP16 -> g.writeNumber(Float.float16ToFloat(((short[]) tensor.data())[i]));
                case INT8, UINT8 -> g.writeNumber(((byte[]) tensor.data())[i]);
                case BOOL -> g.writeBoolean(((boolean[]) tensor.data())[i]);
                case BYTES -> g.writeString(new String(tensor.bytes()[i], StandardCharsets.UTF_8));
            }
        }
    }

    private static Tensor stack(String field, ArrayNode instances, TensorMetadata input) {
        var rowShape = new ArrayList<Long>();
        JsonNode probe = instances.get(0);
        while (probe.isArray()) {
            rowShape.add((long) probe.size());
            probe = probe.isEmpty() ? null : probe.get(0);
            if (probe == null) break;
        }
        var values = new ArrayList<JsonNode>();
        for (int r = 0; r < instances.size(); r++) {
            flattenRow(instances.get(r), rowShape, 0, values, field + "[" + r + "]");
        }
        long[] shape = new long[rowShape.size() + 1];
        shape[0] = instances.size();
        for (int d = 0; d < rowShape.size(); d++) shape[d + 1] = rowShape.get(d);
        DataType type = input.datatype();
        Object data = switch (type) {
            case FP32 -> {
                var out = new float[values.size()];
                for (int i = 0; i < out.length; i++) out[i] = (float) number(values.get(i), field, i);
                yield out;
            }
            case FP64 -> {
                var out = new double[values.size()];
                for (int i = 0; i < out.length; i++) out[i] = number(values.get(i), field, i);
                yield out;
            }
            case INT64 -> {
                var out = new long[values.size()];
                for (int i = 0; i < out.length; i++) out[i] = whole(values.get(i), field, i, type, Long.MIN_VALUE, Long.MAX_VALUE);
                yield out;
            }
            case INT32 -> {
                var out = new int[values.size()];
                for (int i = 0; i < out.length; i++) out[i] = (int) whole(values.get(i), field, i, type, Integer.MIN_VALUE, Integer.MAX_VALUE);
                yield out;
            }
            case BYTES -> {
                var out = new byte[values.size()][];
                for (int i = 0; i < out.length; i++) {
                    if (!values.get(i).isTextual()) throw new InvalidInputException(field + ": element " + i + " must be a string");
                    out[i] = values.get(i).asText().getBytes(StandardCharsets.UTF_8);
                }
                yield out;
            }
            case BOOL -> {
                var out = new boolean[values.size()];
                for (int i = 0; i < out.length; i++) {
                    if (!values.get(i).isBoolean()) throw new InvalidInputException(field + ": element " + i + " must be true or false");
                    out[i] = values.get(i).asBoolean();
                }
                yield out;
            }
            default -> throw new InvalidInputException("V1 cannot feed the model's " + type + " input '" + input.name()
                    + "'; use the v2 protocol");
        };
        return new Tensor(input.name(), type, shape, data);
    }

    private static void flattenRow(JsonNode node, List<Long> shape, int dim, List<JsonNode> into, String at) {
        if (dim == shape.size()) {
            if (node.isContainerNode()) throw new InvalidInputException(at + ": is nested deeper than the first instance");
            into.add(node);
            return;
        }
        if (!node.isArray() || node.size() != shape.get(dim)) {
            throw new InvalidInputException(at + ": every instance must have the shape of the first, " + shape);
        }
        for (int i = 0; i < node.size(); i++) flattenRow(node.get(i), shape, dim + 1, into, at + "[" + i + "]");
    }

    private static double number(JsonNode node, String field, int i) {
        if (!node.isNumber()) throw new InvalidInputException(field + ": element " + i + " must be a number, got " + node.getNodeType());
        return node.asDouble();
    }

    /** A whole number as it is, or refused when {@code type} cannot hold it (never clamped or rounded). */
    private static long whole(JsonNode node, String field, int i, DataType type, long min, long max) {
        if (!node.isIntegralNumber()) throw new InvalidInputException(field + ": element " + i + " must be a whole number");
        if (!node.canConvertToLong() || node.longValue() < min || node.longValue() > max) {
            throw new InvalidInputException(field + ": element " + i + " is " + node.asText() + ", out of range for " + type);
        }
        return node.longValue();
    }
}
