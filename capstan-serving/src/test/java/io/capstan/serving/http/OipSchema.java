package io.capstan.serving.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.capstan.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The component schemas of the Open Inference Protocol's OpenAPI document, as JSON Schema validators. */
final class OipSchema {
    static final Path SPEC = Path.of(System.getProperty("capstan.conformance.dir", "../../shared/conformance"))
            .resolve("open-inference-protocol/specification/protocol/open_inference_rest.yaml");

    private final ObjectNode document;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    OipSchema() throws Exception {
        this.document = (ObjectNode) Json.yaml().readTree(Files.readString(SPEC));
    }

    static boolean available() {
        return Files.isRegularFile(SPEC);
    }

    /** Problems of {@code json} against {@code components.schemas.<name>}; empty when it conforms. */
    List<String> problems(String name, String json) throws Exception {
        if (!document.path("components").path("schemas").has(name)) throw new IllegalArgumentException("no schema " + name);
        var root = document.deepCopy();
        root.put("$ref", "#/components/schemas/" + name);
        root.remove("paths");
        Schema schema = registry.getSchema(Json.json().writeValueAsString(root));
        JsonNode instance = Json.json().readTree(json);
        return schema.validate(instance).stream().map(Object::toString).toList();
    }
}
