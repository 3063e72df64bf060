package io.capstan.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Model Registry's OpenAPI document (upstream's {@code api/openapi/model-registry.yaml}): finds the operation a
 * request reached and checks that the response's status is one the operation declares and that its body conforms to
 * the declared schema, with a JSON Schema validator.
 */
final class RegistrySpec {
    static final String SPEC = "model-registry/api/openapi/model-registry.yaml";

    private final ObjectNode document;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    RegistrySpec() throws Exception {
        Path path = Conformance.require(SPEC);
        this.document = (ObjectNode) Json.yaml().readTree(Files.readString(path));
        discriminate();
    }

    /**
     * JSON Schema knows no OpenAPI discriminator, and the artifact types' schemas overlap (a model artifact is also a
     * valid doc artifact), so a {@code oneOf} with a discriminator would reject every artifact. Each becomes the
     * schema its discriminator value maps to: {@code if artifactType = v then <mapped schema>}, for each v.
     */
    private void discriminate() {
        var schemas = (ObjectNode) document.path("components").path("schemas");
        for (var name : keys(schemas)) {
            var schema = (ObjectNode) schemas.get(name);
            if (!schema.has("discriminator") || !schema.has("oneOf")) continue;
            var property = schema.path("discriminator").path("propertyName").asText();
            var mapping = schema.path("discriminator").path("mapping");
            var all = Json.json().createArrayNode();
            var values = Json.json().createArrayNode();
            for (var value : keys(mapping)) {
                values.add(value);
                var rule = all.addObject();
                rule.putObject("if").put("type", "object").putArray("required").add(property);
                ((ObjectNode) rule.get("if")).putObject("properties").putObject(property).put("const", value);
                rule.putObject("then").put("$ref", mapping.get(value).asText());
            }
            var required = all.addObject();
            required.putArray("required").add(property);
            required.putObject("properties").putObject(property).set("enum", values);
            schema.remove("oneOf");
            schema.remove("discriminator");
            schema.set("allOf", all);
        }
    }

    /** Problems of a response to {@code method path} (path without query); empty when it conforms. */
    List<String> problems(String method, String path, int status, String body) throws Exception {
        var template = template(path);
        if (template == null) return List.of("no path of the spec matches " + path);
        var operation = document.path("paths").path(template).path(method.toLowerCase(Locale.ROOT));
        if (operation.isMissingNode()) return List.of("the spec has no " + method + " " + template);
        var response = operation.path("responses").path(Integer.toString(status));
        // Go's parameter parsing answers 400, and a missing required field 422, on any operation, declared or not.
        if (response.isMissingNode() && (status == 400 || status == 422)) response = resolve("#/components/responses/BadRequest");
        if (response.isMissingNode()) {
            return List.of(method + " " + template + " declares no " + status + " response (it declares " + keys(operation.path("responses")) + ")");
        }
        var ref = response.path("$ref").asText();
        if (!ref.isEmpty()) response = resolve(ref);
        var schemaNode = response.path("content").path("application/json").path("schema");
        if (schemaNode.isMissingNode()) return List.of();
        var schemaRef = schemaNode.path("$ref").asText();
        if (schemaRef.isEmpty()) return List.of("inline schemas are not expected in " + template);
        var schema = schemas.computeIfAbsent(schemaRef, r -> {
            var root = document.deepCopy();
            root.put("$ref", r);
            root.remove("paths");
            try {
                return registry.getSchema(Json.json().writeValueAsString(root));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode instance = Json.json().readTree(body);
        var problems = new ArrayList<String>();
        schema.validate(instance).forEach(m -> problems.add(template + " " + status + ": " + m));
        return problems;
    }

    private JsonNode resolve(String ref) {
        JsonNode node = document;
        for (var part : ref.substring(2).split("/")) node = node.path(part);
        return node;
    }

    /** The spec's path template matching {@code path}, literal segments preferred over parameters. */
    private String template(String path) {
        String best = null;
        int bestLiterals = -1;
        var segments = path.split("/");
        for (var candidate : keys(document.path("paths"))) {
            var parts = candidate.split("/");
            if (parts.length != segments.length) continue;
            int literals = 0;
            boolean match = true;
            for (int i = 0; i < parts.length; i++) {
                if (parts[i].startsWith("{")) continue;
                if (!parts[i].equals(segments[i])) {
                    match = false;
                    break;
                }
                literals++;
            }
            if (match && literals > bestLiterals) {
                best = candidate;
                bestLiterals = literals;
            }
        }
        return best;
    }

    static java.util.List<String> keys(com.fasterxml.jackson.databind.JsonNode node) {
        var out = new java.util.ArrayList<String>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
