package io.capstan.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.OnnxModelRuntime;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A model's signature: its inputs and outputs (name, OIP datatype, shape with -1 for a free dimension), as serving's
 * ONNX runtime loads them, which is also what serving checks each inference request against. Kept on the model
 * version as the custom property {@value #PROPERTY}, a string holding the JSON {@code {"inputs": [...], "outputs": [...]}}.
 */
final class Signatures {
    static final String PROPERTY = "capstan.signature";

    private Signatures() {
    }

    /** The signature of the ONNX model in {@code file}; a 400 naming the file where ONNX Runtime cannot load it. */
    static ObjectNode read(Path file, String filename) {
        try (var model = new OnnxModelRuntime().load(new ModelSource("upload", file, "onnx", Map.of()))) {
            var out = JsonNodeFactory.instance.objectNode();
            tensors(out.putArray("inputs"), model.inputs());
            tensors(out.putArray("outputs"), model.outputs());
            return out;
        } catch (ModelLoadException e) {
            throw RegistryException.badRequest("file: '" + filename + "' is not an ONNX model that serving can load: " + e.getMessage());
        }
    }

    private static void tensors(ArrayNode into, List<TensorMetadata> tensors) {
        for (var t : tensors) {
            var node = into.addObject().put("name", t.name()).put("datatype", t.datatype().name());
            var shape = node.putArray("shape");
            t.shape().forEach(shape::add);
        }
    }

    static void put(ObjectNode customProperties, ObjectNode signature) {
        try {
            customProperties.putObject(PROPERTY).put("metadataType", "MetadataStringValue")
                    .put("string_value", Json.json().writeValueAsString(signature));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The signature recorded on {@code version}, or null. */
    static JsonNode of(Entity version) {
        var text = version.body().path("customProperties").path(PROPERTY).path("string_value");
        if (!text.isTextual()) return null;
        try {
            return Json.json().readTree(text.asText());
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** How {@code served} differs from {@code recorded}, or null where they agree. */
    static String mismatch(JsonNode recorded, JsonNode served) {
        for (var side : List.of("inputs", "outputs")) {
            var a = recorded.path(side);
            var b = served.path(side);
            if (!a.equals(b)) return side + ": the version records " + a + " but the model file has " + b;
        }
        return null;
    }
}
