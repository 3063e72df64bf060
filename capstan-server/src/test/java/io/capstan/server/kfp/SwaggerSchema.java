package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * KFP's v2beta1 swagger 2.0 document, read in place from the shared conformance tree, and a checker that walks a
 * response against the schema the swagger declares for it, as a generated client reads it: {@code $ref}s, types,
 * enums, the formats {@code int32}, {@code int64} and {@code uint64} (which proto3 JSON writes as a string),
 * {@code date-time} and {@code byte}, {@code required}, and no fields beyond the declared ones in an object that
 * declares its properties. The one exception is {@link #EXTENSION}, Capstan's own field, which may appear in any
 * object and is not checked.
 */
final class SwaggerSchema {
    static final Path SWAGGER = Conformance.path("kubeflow-pipelines/backend/api/v2beta1/swagger/kfp_api_single_file.swagger.json");
    static final String EXTENSION = "x_capstan";
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");

    private final JsonNode root;

    private SwaggerSchema(JsonNode root) {
        this.root = root;
    }

    /**
     * Reads the swagger; empty, after a warning, when the shared conformance tree is not beside the project, and an
     * error under {@code CI=true}, where a missing corpus must fail the build.
     */
    static Optional<SwaggerSchema> load() {
        if (!SWAGGER.toFile().isFile()) {
            var message = "KFP's swagger is missing at " + SWAGGER + "; KFP answers are not checked against it";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionError("CI=true and " + message);
            System.err.println("WARNING: " + message);
            return Optional.empty();
        }
        try {
            return Optional.of(new SwaggerSchema(Json.json().readTree(SWAGGER.toFile())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SWAGGER, e);
        }
    }

    /** The response schema the swagger declares for {@code method} on {@code path} (under /apis/v2beta1) and {@code status}. */
    Optional<JsonNode> responseSchema(String method, String path, int status) {
        var operation = operation(method, path);
        if (operation.isEmpty()) {
            // An endpoint the swagger does not declare answers errors in the shape every declared one uses.
            return status >= 400 ? Optional.of(definition("googleRpcStatus")) : Optional.empty();
        }
        var responses = operation.get().path("responses");
        var response = status >= 200 && status < 300 && responses.has(String.valueOf(status)) ? responses.get(String.valueOf(status)) : responses.get("default");
        return response == null ? Optional.empty() : Optional.of(response.path("schema"));
    }

    /** The operation object, matching path templates segment by segment ({@code {x}} takes one segment, or its part before {@code :}). */
    Optional<JsonNode> operation(String method, String path) {
        var full = KfpTestServer.API + path;
        var segments = full.split("/", -1);
        for (var entry : root.path("paths").properties()) {
            var template = entry.getKey().split("/", -1);
            if (template.length != segments.length) continue;
            boolean match = true;
            for (int i = 0; i < template.length && match; i++) match = segmentMatches(template[i], segments[i]);
            if (match && entry.getValue().has(method.toLowerCase(java.util.Locale.ROOT))) {
                return Optional.of(entry.getValue().get(method.toLowerCase(java.util.Locale.ROOT)));
            }
        }
        return Optional.empty();
    }

    private static boolean segmentMatches(String template, String segment) {
        if (!template.contains("{")) return template.equals(segment);
        int close = template.indexOf('}');
        var suffix = template.substring(close + 1);
        if (suffix.isEmpty()) return !segment.isEmpty() && !segment.contains(":");
        return segment.endsWith(suffix) && segment.length() > suffix.length();
    }

    JsonNode definition(String name) {
        var d = root.path("definitions").get(name);
        if (d == null) throw new IllegalArgumentException("the swagger has no definition " + name);
        return d;
    }

    /** Every way {@code value} breaks {@code schema}, each naming its JSON path; empty when it conforms. */
    List<String> violations(JsonNode schema, JsonNode value) {
        var out = new ArrayList<String>();
        check(schema, value, "$", out);
        return out;
    }

    private void check(JsonNode schema, JsonNode value, String at, List<String> out) {
        if (schema.has("$ref")) {
            var ref = schema.get("$ref").asText();
            if (!ref.startsWith("#/definitions/")) throw new IllegalArgumentException("unsupported $ref " + ref);
            check(definition(ref.substring("#/definitions/".length())), value, at, out);
            return;
        }
        if (value.isNull()) {
            if (schema.has("type")) out.add(at + ": null where the swagger declares " + schema.get("type").asText());
            return;
        }
        var type = schema.path("type").asText("");
        if (schema.has("enum")) {
            boolean found = false;
            for (var e : schema.get("enum")) found |= e.equals(value);
            if (!found) out.add(at + ": " + value + " is not one of " + schema.get("enum"));
        }
        switch (type) {
            case "object" -> checkObject(schema, value, at, out);
            case "array" -> {
                if (!value.isArray()) {
                    out.add(at + ": expected an array, got " + value.getNodeType());
                    return;
                }
                for (int i = 0; i < value.size(); i++) check(schema.path("items"), value.get(i), at + "[" + i + "]", out);
            }
            case "string" -> checkString(schema.path("format").asText(""), value, at, out);
            case "integer" -> {
                if (!value.isIntegralNumber()) out.add(at + ": expected an integer, got " + value);
                else if (schema.path("format").asText("").equals("int32") && !value.canConvertToInt()) out.add(at + ": " + value + " is beyond int32");
            }
            case "number" -> {
                if (!value.isNumber()) out.add(at + ": expected a number, got " + value);
            }
            case "boolean" -> {
                if (!value.isBoolean()) out.add(at + ": expected a boolean, got " + value);
            }
            case "" -> {
                if (schema.has("properties") || schema.has("additionalProperties")) checkObject(schema, value, at, out);
            }
            default -> throw new IllegalArgumentException("unsupported swagger type " + type + " at " + at);
        }
    }

    private void checkObject(JsonNode schema, JsonNode value, String at, List<String> out) {
        if (!value.isObject()) {
            out.add(at + ": expected an object, got " + value.getNodeType());
            return;
        }
        for (var required : schema.path("required")) {
            if (!value.has(required.asText())) out.add(at + ": the required field " + required.asText() + " is missing");
        }
        var properties = schema.get("properties");
        var additional = schema.get("additionalProperties");
        // An object that declares neither is free-form, as pipeline_spec is (a google.protobuf.Struct).
        if (properties == null && additional == null) return;
        for (var field : value.properties()) {
            var name = field.getKey();
            var where = at + "." + name;
            if (properties != null && properties.has(name)) check(properties.get(name), field.getValue(), where, out);
            else if (name.equals(EXTENSION) && properties != null) continue;
            else if (additional != null && additional.isObject()) check(additional, field.getValue(), where, out);
            else if (additional == null || !additional.asBoolean(true)) out.add(where + ": not a field the swagger declares");
        }
    }

    private static void checkString(String format, JsonNode value, String at, List<String> out) {
        if (!value.isTextual()) {
            out.add(at + ": expected a string" + (format.isEmpty() ? "" : " (" + format + ")") + ", got " + value.getNodeType() + " " + value);
            return;
        }
        var text = value.asText();
        switch (format) {
            case "int64", "uint64" -> {
                if (!INTEGER.matcher(text).matches()) out.add(at + ": '" + text + "' is not an " + format + " written as a decimal string");
                else {
                    try {
                        if (format.equals("int64")) Long.parseLong(text);
                        else Long.parseUnsignedLong(text);
                    } catch (NumberFormatException e) {
                        out.add(at + ": '" + text + "' is beyond " + format);
                    }
                }
            }
            case "date-time" -> {
                try {
                    OffsetDateTime.parse(text);
                } catch (DateTimeParseException e) {
                    out.add(at + ": '" + text + "' is not an RFC 3339 date-time");
                }
            }
            case "byte" -> {
                try {
                    Base64.getDecoder().decode(text);
                } catch (IllegalArgumentException e) {
                    out.add(at + ": '" + text + "' is not base64");
                }
            }
            default -> {
            }
        }
    }
}
