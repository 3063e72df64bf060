package io.capstan.serving.api;

import java.util.Optional;

/**
 * The reference data a canary's inputs are compared with by the rollout's {@code inputDrift} check: the training
 * reference of the InferenceService's ModelMonitor, which the monitoring module gives; without one, the baseline
 * cohort's inputs are the reference.
 */
@FunctionalInterface
public interface CanaryInputReference {
    CanaryInputReference NONE = (namespace, inferenceService, columns) -> Optional.empty();

    /**
     * The reference's columns (one array of values per input column, in the input tensor's order) for an
     * InferenceService whose first input has {@code columns} columns; empty when there is none of that width.
     */
    Optional<double[][]> reference(String namespace, String inferenceService, int columns);
}
