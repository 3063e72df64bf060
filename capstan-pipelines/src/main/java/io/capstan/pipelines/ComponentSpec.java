package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of {@code components} (or the pipeline's {@code root}): its interface and its body, either a DAG of
 * tasks or a reference to an executor in {@code deploymentSpec}.
 */
public record ComponentSpec(Interface inputs, Interface outputs, Body body, JsonNode raw) {
    public ComponentSpec {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(outputs, "outputs");
        Objects.requireNonNull(body, "body");
        raw = raw.deepCopy();
    }

    /** What a component does: run a DAG, or run one executor. */
    public sealed interface Body permits DagBody, ExecutorBody {
    }

    public record DagBody(DagSpec dag) implements Body {
        public DagBody {
            Objects.requireNonNull(dag, "dag");
        }
    }

    public record ExecutorBody(String executorLabel) implements Body {
        public ExecutorBody {
            Objects.requireNonNull(executorLabel, "executorLabel");
        }
    }

    /** {@code inputDefinitions} or {@code outputDefinitions}: parameters and artifacts by name, in document order. */
    public record Interface(Map<String, ParameterDef> parameters, Map<String, ArtifactDef> artifacts) {
        public static final Interface EMPTY = new Interface(Map.of(), Map.of());

        public Interface {
            parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
            artifacts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(artifacts));
        }

        public boolean declares(String name) {
            return parameters.containsKey(name) || artifacts.containsKey(name);
        }
    }

    /**
     * A declared parameter.
     *
     * @param defaultValue the default, or a missing node when there is none
     */
    public record ParameterDef(ParameterType type, JsonNode defaultValue, boolean isOptional, String description) {
        public ParameterDef {
            Objects.requireNonNull(type, "type");
            defaultValue = defaultValue.deepCopy();
            Objects.requireNonNull(description, "description");
        }

        public boolean hasDefault() {
            return !defaultValue.isMissingNode();
        }
    }

    public record ArtifactDef(ArtifactType type, boolean isArtifactList, boolean isOptional, String description) {
        public ArtifactDef {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(description, "description");
        }
    }
}
