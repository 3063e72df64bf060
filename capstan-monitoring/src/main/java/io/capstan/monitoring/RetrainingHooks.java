package io.capstan.monitoring;

/**
 * What drift-triggered retraining needs from modules the monitoring module does not depend on: the model registry,
 * and the lineage store. The server wires them; {@link #NONE} serves the run's model artifact as it is.
 */
public interface RetrainingHooks {
    /** Serves the run's model artifact directly, recording nothing. */
    RetrainingHooks NONE = (namespace, model, version, artifactUri, format, description) -> artifactUri;

    /**
     * Registers {@code version} of registered model {@code model} with its model artifact at {@code artifactUri};
     * returns the storage URI the canary is to serve (such as {@code model-registry://MODEL/VERSION}).
     *
     * @throws IllegalArgumentException when it cannot be registered (the version exists, a name is refused)
     */
    String register(String namespace, String model, String version, String artifactUri, String format, String description);

    /**
     * Records in lineage that the drift event of {@code monitor} (its window exported at {@code datasetUri}) started
     * pipeline run {@code runUid}, whose model {@code modelUri} became {@code storageUri}, served by InferenceService
     * {@code isvc} as a canary revision. Best effort: a failure is reported in the monitor's status only.
     */
    default void lineage(String namespace, String monitor, String datasetUri, String runUid, String modelUri, String storageUri, String isvc) {
    }
}
