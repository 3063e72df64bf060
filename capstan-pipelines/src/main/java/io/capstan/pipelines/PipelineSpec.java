package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A KFP v2 compiled pipeline ({@code PipelineSpec}, schema 2.1.0). Records mirror the IR; {@link #raw()} keeps the
 * document as written, so fields this model does not name are not lost.
 *
 * @param root       the pipeline's own component, whose body is always a DAG
 * @param components the named components that tasks refer to
 * @param executors  {@code deploymentSpec.executors} by label
 */
public record PipelineSpec(Info pipelineInfo, ComponentSpec root, Map<String, ComponentSpec> components,
                           Map<String, ExecutorSpec> executors, String schemaVersion, String sdkVersion,
                           String defaultPipelineRoot, JsonNode raw) {
    /** The component name under which plans list the root DAG. */
    public static final String ROOT = "root";

    public PipelineSpec {
        Objects.requireNonNull(pipelineInfo, "pipelineInfo");
        Objects.requireNonNull(root, "root");
        components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
        executors = Collections.unmodifiableMap(new LinkedHashMap<>(executors));
        Objects.requireNonNull(schemaVersion, "schemaVersion");
        Objects.requireNonNull(sdkVersion, "sdkVersion");
        Objects.requireNonNull(defaultPipelineRoot, "defaultPipelineRoot");
        raw = raw.deepCopy();
    }

    /** {@code pipelineInfo}; empty strings where the IR leaves a field out. */
    public record Info(String name, String displayName, String description) {
        public Info {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(displayName, "displayName");
            Objects.requireNonNull(description, "description");
        }
    }

    /** The component called {@code name}, or the root for {@value #ROOT}. */
    public Optional<ComponentSpec> findComponent(String name) {
        return ROOT.equals(name) ? Optional.of(root) : Optional.ofNullable(components.get(name));
    }
}
