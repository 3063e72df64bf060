package io.capstan.serving.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.ModelMetadata;
import io.capstan.serving.api.ServerMetadata;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Open Inference Protocol's JSON encoding, read and written with Jackson's streaming API:
 * tensor data goes straight between JSON and primitive arrays, with no tree or boxing in between.
 * Every read error is an {@link InvalidInputException} naming its field, e.g. {@code inputs[0].shape}.
 */
public final class OipJson {
    private static final JsonFactory FACTORY = Json.json().getFactory().rebuild()
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
            .build();
    private static final String DATATYPES = Arrays.toString(DataType.values());

    private OipJson() {
    }

    // ---------------------------------------------------------------- reading

    public static InferenceRequest readRequest(byte[] body) {
        var simple = OipFastJson.readRequest(body);
        if (simple != null) return simple;
        return readRequestGeneral(body);
    }

    /** Jackson's streaming reader: every request, and the errors that name their field. */
    static InferenceRequest readRequestGeneral(byte[] body) {
        try (var parser = FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidInputException("the body must be a JSON object with \"inputs\"");
            }
            String id = null;
            Map<String, Object> parameters = Map.of();
            List<Tensor> inputs = null;
            List<InferenceRequest.RequestedOutput> outputs = List.of();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                var token = parser.nextToken();
                switch (field) {
                    case "id" -> id = text(parser, token, "id");
                    case "parameters" -> parameters = parameters(parser, token, "parameters");
                    case "inputs" -> inputs = inputs(parser, token);
                    case "outputs" -> outputs = outputs(parser, token);
                    default -> parser.skipChildren();
                }
            }
            if (parser.nextToken() != null) {
                throw new InvalidInputException("the body has content after its JSON object");
            }
            if (inputs == null) {
                throw new InvalidInputException("inputs: the request has no \"inputs\"");
            }
            return new InferenceRequest(id, parameters, inputs, outputs);
        } catch (StreamConstraintsException e) {
            throw new InvalidInputException("the body is too large or too deeply nested: " + e.getOriginalMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidInputException("the body is not valid JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
        } catch (IOException e) {
            // Reading a byte array fails only on its text encoding: Jackson takes leading zero bytes for UTF-16 or
            // UTF-32 and then meets a character that does not exist.
            throw new InvalidInputException("the body is not valid JSON: " + e.getMessage() + "; send UTF-8 text");
        }
    }

    /**
     * Reads an OIP {@code $inference_response}, such as a model server process answers; the tensors are checked as
     * a request's inputs are.
     */
    public static InferenceResponse readResponse(byte[] body, String fallbackModelName) {
        try (var parser = FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidInputException("the response must be a JSON object with \"outputs\"");
            }
            String id = null;
            String model = fallbackModelName;
            String version = null;
            Map<String, Object> parameters = Map.of();
            List<Tensor> outputs = List.of();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                var token = parser.nextToken();
                switch (field) {
                    case "id" -> id = token == JsonToken.VALUE_NULL ? null : text(parser, token, "id");
                    case "model_name" -> model = text(parser, token, "model_name");
                    case "model_version" -> version = token == JsonToken.VALUE_NULL ? null : parser.getValueAsString();
                    case "parameters" -> parameters = parameters(parser, token, "parameters");
                    case "outputs" -> outputs = inputs(parser, token);
                    default -> parser.skipChildren();
                }
            }
            return new InferenceResponse(model, version, id, parameters, outputs);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidInputException("the response is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Tensor> inputs(JsonParser parser, JsonToken token) throws IOException {
        if (token != JsonToken.START_ARRAY) throw new InvalidInputException("inputs: must be a list of tensors");
        var inputs = new ArrayList<Tensor>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            inputs.add(tensor(parser, "inputs[" + inputs.size() + "]"));
        }
        return inputs;
    }

    private static Tensor tensor(JsonParser parser, String at) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) throw new InvalidInputException(at + ": must be an object");
        String name = null;
        DataType datatype = null;
        long[] shape = null;
        Object data = null;
        JsonNode deferredData = null;
        Map<String, Object> parameters = Map.of();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            var token = parser.nextToken();
            switch (field) {
                case "name" -> name = text(parser, token, at + ".name");
                case "datatype" -> {
                    String type = text(parser, token, at + ".datatype");
                    datatype = DataType.fromWireName(type).orElseThrow(() -> new InvalidInputException(
                            at + ".datatype: '" + printable(type) + "' is not a datatype; use one of " + DATATYPES));
                }
                case "shape" -> shape = shape(parser, token, at + ".shape");
                case "parameters" -> parameters = parameters(parser, token, at + ".parameters");
                case "data" -> {
                    if (datatype != null) {
                        data = data(parser, token, datatype, shape, at + ".data");
                    } else {
                        deferredData = Json.json().readTree(parser);
                    }
                }
                default -> parser.skipChildren();
            }
        }
        if (name == null) throw new InvalidInputException(at + ".name: is required");
        if (datatype == null) throw new InvalidInputException(at + ".datatype: is required; use one of " + DATATYPES);
        if (shape == null) throw new InvalidInputException(at + ".shape: is required");
        if (deferredData != null) {
            try (var dataParser = deferredData.traverse(Json.json())) {
                data = data(dataParser, dataParser.nextToken(), datatype, shape, at + ".data");
            }
        }
        if (data == null) throw new InvalidInputException(at + ".data: is required");
        try {
            return new Tensor(name, datatype, shape, data, parameters);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(at + ".data: " + e.getMessage());
        }
    }

    private static long[] shape(JsonParser parser, JsonToken token, String at) throws IOException {
        if (token != JsonToken.START_ARRAY) throw new InvalidInputException(at + ": must be a list of dimensions");
        long[] dims = new long[4];
        int n = 0;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (token != JsonToken.VALUE_NUMBER_INT) throw new InvalidInputException(at + "[" + n + "]: must be a whole number");
            long d;
            try {
                d = parser.getLongValue();
            } catch (com.fasterxml.jackson.core.exc.InputCoercionException e) {
                throw new InvalidInputException(at + "[" + n + "]: is too large");
            }
            if (d < 0) throw new InvalidInputException(at + "[" + n + "]: must not be negative, got " + d);
            if (n == 32) throw new InvalidInputException(at + ": has more than 32 dimensions");
            if (n == dims.length) dims = Arrays.copyOf(dims, n * 2);
            dims[n++] = d;
        }
        var shape = Arrays.copyOf(dims, n);
        try {
            Tensor.elementCount(shape);
        } catch (InvalidInputException | ArithmeticException e) {
            throw new InvalidInputException(at + ": " + Arrays.toString(shape) + " holds too many elements");
        }
        return shape;
    }

    /** Reads flat or nested (row-major) data into the datatype's carrier array. */
    private static Object data(JsonParser parser, JsonToken token, DataType type, long[] shape, String at) throws IOException {
        var sink = new DataSink(type, shape == null ? 16 : (int) Math.min(Tensor.elementCount(shape), 1 << 20), at);
        if (token == JsonToken.START_ARRAY) {
            readArray(parser, sink, 0);
        } else {
            sink.add(parser, token); // a scalar is a one-element tensor
        }
        return sink.finish();
    }

    private static void readArray(JsonParser parser, DataSink sink, int depth) throws IOException {
        if (depth > 32) throw new InvalidInputException(sink.at + ": is nested more than 32 levels deep");
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (token == JsonToken.START_ARRAY) {
                readArray(parser, sink, depth + 1);
            } else {
                sink.add(parser, token);
            }
        }
    }

    /** A growable array of one datatype's carrier. */
    private static final class DataSink {
        final DataType type;
        final String at;
        int size;
        float[] floats;
        double[] doubles;
        long[] longs;
        int[] ints;
        short[] shorts;
        byte[] bytes;
        boolean[] bools;
        byte[][] strings;

        DataSink(DataType type, int capacity, String at) {
            this.type = type;
            this.at = at;
            int c = Math.max(1, capacity);
            switch (type) {
                case FP32 -> floats = new float[c];
                case FP64 -> doubles = new double[c];
                case INT64, UINT64 -> longs = new long[c];
                case INT32, UINT32 -> ints = new int[c];
                case INT16, UINT16, FP16 -> shorts = new short[c];
                case INT8, UINT8 -> bytes = new byte[c];
                case BOOL -> bools = new boolean[c];
                case BYTES -> strings = new byte[c][];
            }
        }

        void add(JsonParser parser, JsonToken token) throws IOException {
            if (size == Integer.MAX_VALUE - 16) throw new InvalidInputException(at + ": has too many elements");
            grow();
            switch (type) {
                case FP32 -> floats[size] = (float) number(parser, token);
                case FP64 -> doubles[size] = number(parser, token);
                case FP16 -> shorts[size] = Float.floatToFloat16((float) number(parser, token));
                case INT64 -> longs[size] = integer(parser, token, Long.MIN_VALUE, Long.MAX_VALUE);
                case UINT64 -> longs[size] = unsigned64(parser, token);
                case INT32 -> ints[size] = (int) integer(parser, token, Integer.MIN_VALUE, Integer.MAX_VALUE);
                case UINT32 -> ints[size] = (int) integer(parser, token, 0, 0xFFFF_FFFFL);
                case INT16 -> shorts[size] = (short) integer(parser, token, Short.MIN_VALUE, Short.MAX_VALUE);
                case UINT16 -> shorts[size] = (short) integer(parser, token, 0, 0xFFFF);
                case INT8 -> bytes[size] = (byte) integer(parser, token, Byte.MIN_VALUE, Byte.MAX_VALUE);
                case UINT8 -> bytes[size] = (byte) integer(parser, token, 0, 0xFF);
                case BOOL -> {
                    if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) throw wrong("true or false");
                    bools[size] = token == JsonToken.VALUE_TRUE;
                }
                case BYTES -> {
                    if (token != JsonToken.VALUE_STRING) throw wrong("a string");
                    strings[size] = parser.getText().getBytes(StandardCharsets.UTF_8);
                }
            }
            size++;
        }

        private double number(JsonParser parser, JsonToken token) throws IOException {
            if (token == JsonToken.VALUE_NUMBER_FLOAT || token == JsonToken.VALUE_NUMBER_INT) return parser.getDoubleValue();
            if (token == JsonToken.VALUE_STRING) {
                switch (parser.getText()) {
                    case "NaN" -> { return Double.NaN; }
                    case "Infinity", "inf" -> { return Double.POSITIVE_INFINITY; }
                    case "-Infinity", "-inf" -> { return Double.NEGATIVE_INFINITY; }
                    default -> { }
                }
            }
            throw wrong("a number (" + type + ")");
        }

        private long integer(JsonParser parser, JsonToken token, long min, long max) throws IOException {
            if (token != JsonToken.VALUE_NUMBER_INT) throw wrong("a whole number (" + type + ")");
            if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) throw outOfRange(parser.getText());
            long value = parser.getLongValue();
            if (value < min || value > max) throw outOfRange(String.valueOf(value));
            return value;
        }

        private long unsigned64(JsonParser parser, JsonToken token) throws IOException {
            if (token != JsonToken.VALUE_NUMBER_INT) throw wrong("a whole number (UINT64)");
            var value = parser.getBigIntegerValue();
            if (value.signum() < 0 || value.bitLength() > 64) throw outOfRange(value.toString());
            return value.longValue();
        }

        private InvalidInputException wrong(String expected) {
            return new InvalidInputException(at + "[" + size + "]: expected " + expected);
        }

        private InvalidInputException outOfRange(String value) {
            return new InvalidInputException(at + "[" + size + "]: " + value + " is out of range for " + type);
        }

        private void grow() {
            int capacity = switch (type) {
                case FP32 -> floats.length;
                case FP64 -> doubles.length;
                case INT64, UINT64 -> longs.length;
                case INT32, UINT32 -> ints.length;
                case INT16, UINT16, FP16 -> shorts.length;
                case INT8, UINT8 -> bytes.length;
                case BOOL -> bools.length;
                case BYTES -> strings.length;
            };
            if (size < capacity) return;
            int next = (int) Math.min(Integer.MAX_VALUE - 16L, capacity * 2L);
            switch (type) {
                case FP32 -> floats = Arrays.copyOf(floats, next);
                case FP64 -> doubles = Arrays.copyOf(doubles, next);
                case INT64, UINT64 -> longs = Arrays.copyOf(longs, next);
                case INT32, UINT32 -> ints = Arrays.copyOf(ints, next);
                case INT16, UINT16, FP16 -> shorts = Arrays.copyOf(shorts, next);
                case INT8, UINT8 -> bytes = Arrays.copyOf(bytes, next);
                case BOOL -> bools = Arrays.copyOf(bools, next);
                case BYTES -> strings = Arrays.copyOf(strings, next);
            }
        }

        Object finish() {
            return switch (type) {
                case FP32 -> floats.length == size ? floats : Arrays.copyOf(floats, size);
                case FP64 -> doubles.length == size ? doubles : Arrays.copyOf(doubles, size);
                case INT64, UINT64 -> longs.length == size ? longs : Arrays.copyOf(longs, size);
                case INT32, UINT32 -> ints.length == size ? ints : Arrays.copyOf(ints, size);
                case INT16, UINT16, FP16 -> shorts.length == size ? shorts : Arrays.copyOf(shorts, size);
                case INT8, UINT8 -> bytes.length == size ? bytes : Arrays.copyOf(bytes, size);
                case BOOL -> bools.length == size ? bools : Arrays.copyOf(bools, size);
                case BYTES -> strings.length == size ? strings : Arrays.copyOf(strings, size);
            };
        }
    }

    private static List<InferenceRequest.RequestedOutput> outputs(JsonParser parser, JsonToken token) throws IOException {
        if (token != JsonToken.START_ARRAY) throw new InvalidInputException("outputs: must be a list of {\"name\": ...} objects");
        var outputs = new ArrayList<InferenceRequest.RequestedOutput>();
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            String at = "outputs[" + outputs.size() + "]";
            if (token != JsonToken.START_OBJECT) throw new InvalidInputException(at + ": must be an object with a name");
            String name = null;
            Map<String, Object> parameters = Map.of();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                var value = parser.nextToken();
                switch (field) {
                    case "name" -> name = text(parser, value, at + ".name");
                    case "parameters" -> parameters = parameters(parser, value, at + ".parameters");
                    default -> parser.skipChildren();
                }
            }
            if (name == null) throw new InvalidInputException(at + ".name: is required");
            outputs.add(new InferenceRequest.RequestedOutput(name, parameters));
        }
        return outputs;
    }

    private static Map<String, Object> parameters(JsonParser parser, JsonToken token, String at) throws IOException {
        if (token == JsonToken.VALUE_NULL) return Map.of();
        if (token != JsonToken.START_OBJECT) throw new InvalidInputException(at + ": must be an object");
        var parameters = new LinkedHashMap<String, Object>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            var value = parser.nextToken();
            switch (value) {
                case VALUE_STRING -> parameters.put(key, parser.getText());
                case VALUE_TRUE, VALUE_FALSE -> parameters.put(key, value == JsonToken.VALUE_TRUE);
                case VALUE_NUMBER_INT -> parameters.put(key, parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                        ? (Object) parser.getDoubleValue() : (Object) parser.getLongValue());
                case VALUE_NUMBER_FLOAT -> parameters.put(key, parser.getDoubleValue());
                case VALUE_NULL -> { }
                default -> throw new InvalidInputException(at + "." + printable(key) + ": must be a string, number or boolean");
            }
        }
        return parameters;
    }

    private static String text(JsonParser parser, JsonToken token, String at) throws IOException {
        if (token != JsonToken.VALUE_STRING) throw new InvalidInputException(at + ": must be a string");
        return parser.getText();
    }

    static String printable(String s) {
        var cut = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return io.capstan.core.Names.printable(cut);
    }

    // ---------------------------------------------------------------- writing

    public static byte[] writeResponse(InferenceResponse response) {
        var simple = OipFastJson.writeResponse(response);
        if (simple != null) return simple;
        return writeResponseGeneral(response);
    }

    static byte[] writeResponseGeneral(InferenceResponse response) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("model_name", response.modelName());
            if (response.modelVersion() != null) g.writeStringField("model_version", response.modelVersion());
            if (response.id() != null) g.writeStringField("id", response.id());
            if (!response.parameters().isEmpty()) writeParameters(g, "parameters", response.parameters());
            g.writeArrayFieldStart("outputs");
            for (var tensor : response.outputs()) writeTensor(g, tensor);
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    public static byte[] writeRequest(InferenceRequest request) {
        return write(g -> {
            g.writeStartObject();
            if (request.id() != null) g.writeStringField("id", request.id());
            if (!request.parameters().isEmpty()) writeParameters(g, "parameters", request.parameters());
            g.writeArrayFieldStart("inputs");
            for (var tensor : request.inputs()) writeTensor(g, tensor);
            g.writeEndArray();
            if (!request.outputs().isEmpty()) {
                g.writeArrayFieldStart("outputs");
                for (var output : request.outputs()) {
                    g.writeStartObject();
                    g.writeStringField("name", output.name());
                    if (!output.parameters().isEmpty()) writeParameters(g, "parameters", output.parameters());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        });
    }

    static void writeTensor(JsonGenerator g, Tensor tensor) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", tensor.name());
        g.writeStringField("datatype", tensor.datatype().name());
        g.writeArrayFieldStart("shape");
        for (long d : tensor.shape()) g.writeNumber(d);
        g.writeEndArray();
        if (!tensor.parameters().isEmpty()) writeParameters(g, "parameters", tensor.parameters());
        g.writeFieldName("data");
        writeData(g, tensor);
        g.writeEndObject();
    }

    /** Writes a tensor's flat data as a JSON array. */
    static void writeData(JsonGenerator g, Tensor tensor) throws IOException {
        g.writeStartArray();
        switch (tensor.datatype()) {
            case FP32 -> { for (float v : tensor.floats()) writeFloat(g, v); }
            case FP64 -> { for (double v : tensor.doubles()) writeDouble(g, v); }
            case FP16 -> { for (short v : (short[]) tensor.data()) writeFloat(g, Float.float16ToFloat(v)); }
            case INT64 -> { for (long v : tensor.longs()) g.writeNumber(v); }
            case UINT64 -> { for (long v : tensor.longs()) g.writeNumber(v >= 0 ? BigInteger.valueOf(v) : new BigInteger(Long.toUnsignedString(v))); }
            case INT32 -> { for (int v : tensor.ints()) g.writeNumber(v); }
            case UINT32 -> { for (int v : tensor.ints()) g.writeNumber(Integer.toUnsignedLong(v)); }
            case INT16 -> { for (short v : (short[]) tensor.data()) g.writeNumber(v); }
            case UINT16 -> { for (short v : (short[]) tensor.data()) g.writeNumber(Short.toUnsignedInt(v)); }
            case INT8 -> { for (byte v : (byte[]) tensor.data()) g.writeNumber(v); }
            case UINT8 -> { for (byte v : (byte[]) tensor.data()) g.writeNumber(Byte.toUnsignedInt(v)); }
            case BOOL -> { for (boolean v : (boolean[]) tensor.data()) g.writeBoolean(v); }
            case BYTES -> {
                for (byte[] v : tensor.bytes()) g.writeString(new String(v, StandardCharsets.UTF_8));
            }
        }
        g.writeEndArray();
    }

    private static void writeFloat(JsonGenerator g, float v) throws IOException {
        if (Float.isFinite(v)) g.writeNumber(v);
        else g.writeString(Float.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }

    private static void writeDouble(JsonGenerator g, double v) throws IOException {
        if (Double.isFinite(v)) g.writeNumber(v);
        else g.writeString(Double.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }

    static void writeParameters(JsonGenerator g, String field, Map<String, Object> parameters) throws IOException {
        g.writeObjectFieldStart(field);
        for (var entry : parameters.entrySet()) {
            g.writeFieldName(entry.getKey());
            switch (entry.getValue()) {
                case String s -> g.writeString(s);
                case Boolean b -> g.writeBoolean(b);
                case Long l -> g.writeNumber(l);
                case Integer i -> g.writeNumber(i);
                case Double d -> writeDouble(g, d);
                case Float f -> writeFloat(g, f);
                default -> g.writeString(String.valueOf(entry.getValue()));
            }
        }
        g.writeEndObject();
    }

    public static byte[] writeServerMetadata(ServerMetadata metadata) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", metadata.name());
            g.writeStringField("version", metadata.version());
            g.writeArrayFieldStart("extensions");
            for (var e : metadata.extensions()) g.writeString(e);
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    public static byte[] writeModelMetadata(ModelMetadata metadata) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", metadata.name());
            g.writeArrayFieldStart("versions");
            for (var v : metadata.versions()) g.writeString(v);
            g.writeEndArray();
            g.writeStringField("platform", metadata.platform());
            writeTensorMetadata(g, "inputs", metadata.inputs());
            writeTensorMetadata(g, "outputs", metadata.outputs());
            if (!metadata.parameters().isEmpty()) writeParameters(g, "parameters", metadata.parameters());
            g.writeEndObject();
        });
    }

    private static void writeTensorMetadata(JsonGenerator g, String field, List<TensorMetadata> tensors) throws IOException {
        g.writeArrayFieldStart(field);
        for (var t : tensors) {
            g.writeStartObject();
            g.writeStringField("name", t.name());
            g.writeStringField("datatype", t.datatype().name());
            g.writeArrayFieldStart("shape");
            for (long d : t.shape()) g.writeNumber(d);
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    public static byte[] writeError(String message) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }

    /** Writes a small JSON document with a generator into bytes. */
    public static byte[] write(JsonWriter writer) {
        var out = new ByteArrayBuilder(512);
        try (var g = FACTORY.createGenerator(out)) {
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @FunctionalInterface
    public interface JsonWriter {
        void write(JsonGenerator g) throws IOException;
    }
}
