package io.capstan.components;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The KFP executor input a step receives in {@code {{$}}}: input parameter values, input artifacts, and where each
 * output goes.
 *
 * @param parameters        input parameter values by name, as JSON values
 * @param artifacts         input artifacts by name; each name may carry a list
 * @param outputParameters  the file each output parameter is written to, by name
 * @param outputArtifacts   each output artifact by name, with the URI to write it at
 * @param outputFile        where the executor output JSON goes
 */
record ExecutorInput(Map<String, JsonNode> parameters, Map<String, List<RuntimeArtifact>> artifacts,
                     Map<String, Path> outputParameters, Map<String, RuntimeArtifact> outputArtifacts, Path outputFile) {
    ExecutorInput {
        parameters = Map.copyOf(parameters);
        artifacts = Map.copyOf(artifacts);
        outputParameters = Map.copyOf(outputParameters);
        outputArtifacts = Map.copyOf(outputArtifacts);
        Objects.requireNonNull(outputFile, "outputFile");
    }

    static ExecutorInput parse(String text) {
        Objects.requireNonNull(text, "text");
        JsonNode root;
        try {
            root = Json.json().readTree(text);
        } catch (JsonProcessingException e) {
            var where = e.getLocation() == null ? "" : " at line %d, column %d".formatted(
                    e.getLocation().getLineNr(), e.getLocation().getColumnNr());
            throw new InvalidSpecException("--executor_input is not valid JSON%s (%s); pass KFP's executor input, '{{$}}'"
                    .formatted(where, e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidSpecException("--executor_input must be a JSON object with 'inputs' and 'outputs'; pass KFP's executor input, '{{$}}'");
        }
        var inputs = root.path("inputs");
        var parameters = new LinkedHashMap<String, JsonNode>();
        inputs.path("parameterValues").properties().forEach(e -> parameters.put(e.getKey(), e.getValue()));

        var artifacts = new LinkedHashMap<String, List<RuntimeArtifact>>();
        for (var e : inputs.path("artifacts").properties()) {
            var list = new ArrayList<RuntimeArtifact>();
            var items = e.getValue().path("artifacts");
            for (int i = 0; i < items.size(); i++) {
                list.add(RuntimeArtifact.of(e.getKey(), items.get(i), "inputs.artifacts.%s.artifacts[%d]".formatted(e.getKey(), i)));
            }
            artifacts.put(e.getKey(), list);
        }

        var outputs = root.path("outputs");
        var outputParameters = new LinkedHashMap<String, Path>();
        for (var e : outputs.path("parameters").properties()) {
            var file = e.getValue().path("outputFile");
            if (!file.isTextual() || file.asText().isBlank()) {
                throw new InvalidSpecException("outputs.parameters.%s.outputFile is missing; the engine must name a file for every output parameter"
                        .formatted(e.getKey()));
            }
            outputParameters.put(e.getKey(), Path.of(file.asText()));
        }
        var outputArtifacts = new LinkedHashMap<String, RuntimeArtifact>();
        for (var e : outputs.path("artifacts").properties()) {
            var items = e.getValue().path("artifacts");
            if (items.size() != 1) {
                throw new InvalidSpecException("outputs.artifacts.%s.artifacts must hold exactly one artifact, got %d"
                        .formatted(e.getKey(), items.size()));
            }
            outputArtifacts.put(e.getKey(), RuntimeArtifact.of(e.getKey(), items.get(0), "outputs.artifacts.%s.artifacts[0]".formatted(e.getKey())));
        }
        var outputFile = outputs.path("outputFile");
        if (!outputFile.isTextual() || outputFile.asText().isBlank()) {
            throw new InvalidSpecException("outputs.outputFile is missing from --executor_input; the engine must name the executor output file");
        }
        return new ExecutorInput(parameters, artifacts, outputParameters, outputArtifacts, Path.of(outputFile.asText()));
    }

    /** The single artifact bound to input {@code name}. */
    RuntimeArtifact inputArtifact(String name) {
        var list = artifacts.get(name);
        if (list == null || list.isEmpty()) {
            throw new InvalidSpecException("input artifact '%s' is missing; connect it to an upstream task's output".formatted(name));
        }
        if (list.size() > 1) {
            throw new InvalidSpecException("input artifact '%s' has %d artifacts, expected one; do not pass a list here"
                    .formatted(name, list.size()));
        }
        return list.getFirst();
    }

    RuntimeArtifact outputArtifact(String name) {
        var artifact = outputArtifacts.get(name);
        if (artifact == null) {
            throw new InvalidSpecException("output artifact '%s' is missing from outputs.artifacts; declare it in the component's outputDefinitions"
                    .formatted(name));
        }
        return artifact;
    }

    /** The value of a required string parameter. */
    String string(String name) {
        var node = parameters.get(name);
        if (node != null && !node.isNull() && !node.isValueNode()) throw notA(name, node, "a string");
        if (node == null || node.isNull() || node.asText().isBlank()) {
            throw new InvalidSpecException("input parameter '%s' is missing; set it on the task".formatted(name));
        }
        return node.asText();
    }

    /** The value of an optional string parameter; an absent, null or empty value gives {@code fallback}. */
    String string(String name, String fallback) {
        var node = parameters.get(name);
        if (node == null || node.isNull() || node.asText().isEmpty()) return fallback;
        if (!node.isValueNode()) throw notA(name, node, "a string");
        return node.asText();
    }

    double number(String name, double fallback) {
        var node = parameters.get(name);
        if (node == null || node.isNull() || (node.isTextual() && node.asText().isBlank())) return fallback;
        if (node.isNumber()) return node.asDouble();
        if (node.isTextual()) {
            try {
                return Double.parseDouble(node.asText().trim());
            } catch (NumberFormatException e) {
                throw notA(name, node, "a number");
            }
        }
        throw notA(name, node, "a number");
    }

    long integer(String name, long fallback) {
        double value = number(name, fallback);
        if (value != Math.rint(value) || Double.isInfinite(value)) throw notA(name, parameters.get(name), "a whole number");
        return (long) value;
    }

    boolean bool(String name, boolean fallback) {
        var node = parameters.get(name);
        if (node == null || node.isNull()) return fallback;
        if (node.isBoolean()) return node.asBoolean();
        return switch (node.asText().trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw notA(name, node, "true or false");
        };
    }

    private static InvalidSpecException notA(String name, JsonNode value, String what) {
        return new InvalidSpecException("input parameter '%s' is %s, which is not %s; pass %s"
                .formatted(name, value, what, what));
    }
}
