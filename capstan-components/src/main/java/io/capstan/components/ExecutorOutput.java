package io.capstan.components;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a component produced: output parameter values and output artifacts with their metadata. Writing it follows
 * KFP's executor contract, so each parameter goes to its own output file and everything goes to the executor output
 * JSON, from which the engine records metadata in lineage.
 *
 * @param parameters output parameter values by name
 * @param artifacts  output artifacts by name, with the metadata the component set
 */
record ExecutorOutput(Map<String, JsonNode> parameters, Map<String, RuntimeArtifact> artifacts) {
    ExecutorOutput {
        parameters = Map.copyOf(parameters);
        artifacts = Map.copyOf(artifacts);
    }

    static Builder builder() {
        return new Builder();
    }

    /** Writes declared output parameter files and the executor output JSON named by {@code input}. */
    void write(ExecutorInput input) {
        var root = Json.json().createObjectNode();
        var values = root.putObject("parameterValues");
        parameters.forEach((name, value) -> {
            values.set(name, value);
            var file = input.outputParameters().get(name);
            if (file != null) {
                // KFP writes strings raw and every other type as JSON.
                LocalFiles.writeString(file, value.isTextual() ? value.asText() : value.toString(), "output parameter '" + name + "'");
            }
        });
        var arts = root.putObject("artifacts");
        artifacts.forEach((name, artifact) -> {
            ObjectNode one = arts.putObject(name).putArray("artifacts").addObject();
            one.put("name", artifact.name());
            one.put("uri", artifact.uri());
            var metadata = one.putObject("metadata");
            artifact.metadata().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> metadata.set(e.getKey(), e.getValue()));
        });
        try {
            LocalFiles.writeString(input.outputFile(), Json.json().writerWithDefaultPrettyPrinter().writeValueAsString(root),
                    "outputs.outputFile");
        } catch (IOException e) {
            throw new PermanentFailureException("could not render the executor output JSON: " + e.getMessage(), e);
        }
    }

    static final class Builder {
        private final Map<String, JsonNode> parameters = new LinkedHashMap<>();
        private final Map<String, RuntimeArtifact> artifacts = new LinkedHashMap<>();

        Builder parameter(String name, JsonNode value) {
            parameters.put(name, value);
            return this;
        }

        Builder parameter(String name, double value) {
            return parameter(name, Json.json().getNodeFactory().numberNode(value));
        }

        /** Records output {@code declared} with the metadata the component computed for it. */
        Builder artifact(RuntimeArtifact declared, Map<String, ?> metadata) {
            var merged = new LinkedHashMap<>(declared.metadata());
            metadata.forEach((k, v) -> merged.put(k, Json.json().valueToTree(v)));
            artifacts.put(declared.key(), new RuntimeArtifact(declared.key(), declared.name(), declared.schemaTitle(),
                    declared.uri(), merged));
            return this;
        }

        ExecutorOutput build() {
            return new ExecutorOutput(parameters, artifacts);
        }
    }
}
