package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code spec.trialTemplate}: either an inline {@code trialSpec} or a config-map reference, the trial parameters
 * substituted into it, and how to tell a finished trial's success.
 */
record TrialTemplate(Optional<ObjectNode> trialSpec, Optional<ConfigMapRef> configMap, List<TrialParameter> trialParameters,
                     String primaryContainerName, Map<String, String> primaryPodLabels, String successCondition, String failureCondition) {
    /** Katib's defaults for a batch/v1 Job. */
    static final String DEFAULT_SUCCESS = "status.conditions.#(type==\"Complete\")#|#(status==\"True\")#";
    static final String DEFAULT_FAILURE = "status.conditions.#(type==\"Failed\")#|#(status==\"True\")#";

    TrialTemplate {
        Objects.requireNonNull(trialSpec, "trialSpec");
        Objects.requireNonNull(configMap, "configMap");
        trialParameters = List.copyOf(trialParameters);
        Objects.requireNonNull(primaryContainerName, "primaryContainerName");
        primaryPodLabels = Map.copyOf(primaryPodLabels);
        Objects.requireNonNull(successCondition, "successCondition");
        Objects.requireNonNull(failureCondition, "failureCondition");
        trialSpec = trialSpec.map(ObjectNode::deepCopy);
    }

    @Override
    public Optional<ObjectNode> trialSpec() {
        return trialSpec.map(ObjectNode::deepCopy);
    }

    /**
     * @param reference a parameter name, or trial metadata such as {@code ${trialSpec.Name}}
     */
    record TrialParameter(String name, String reference, String description) {
    }

    record ConfigMapRef(String name, String namespace, String templatePath) {
    }
}
