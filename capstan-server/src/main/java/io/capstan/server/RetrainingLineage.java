package io.capstan.server;

import io.capstan.core.ConflictException;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.ArtifactAndEvent;
import io.capstan.metadata.ArtifactState;
import io.capstan.metadata.ArtifactType;
import io.capstan.metadata.Context;
import io.capstan.metadata.ContextType;
import io.capstan.metadata.Execution;
import io.capstan.metadata.ExecutionState;
import io.capstan.metadata.ExecutionType;
import io.capstan.metadata.MetadataStore;
import io.capstan.metadata.MetadataType;
import io.capstan.metadata.PropertyValue;
import io.capstan.monitoring.RetrainingHooks;
import io.capstan.registry.ModelRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Drift-triggered retraining's registry and lineage: models are registered in the namespace's model registry, and
 * each retraining is an execution of type {@value #EXECUTION_TYPE} with the drifted window ({@code system.Dataset}) as
 * input and the run's model ({@code system.Model}) and the registered version (a {@code system.Model} whose URI is
 * {@code model-registry://...}, naming the InferenceService it is a canary of) as outputs, in the pipeline run's
 * context and in a {@value #CONTEXT_TYPE} context named {@code namespace/monitor}.
 */
final class RetrainingLineage implements RetrainingHooks {
    static final String EXECUTION_TYPE = "capstan.DriftRetraining";
    static final String CONTEXT_TYPE = "capstan.ModelMonitor";
    static final String RUN_CONTEXT = "system.PipelineRun";

    private final ModelRegistry registry;
    private final MetadataStore metadata;

    RetrainingLineage(ModelRegistry registry, MetadataStore metadata) {
        this.registry = registry;
        this.metadata = metadata;
    }

    @Override
    public String register(String namespace, String model, String version, String artifactUri, String format, String description) {
        return registry.register(namespace, model, version, artifactUri, format, description);
    }

    @Override
    public void lineage(String namespace, String monitor, String datasetUri, String runUid, String modelUri, String storageUri, String isvc) {
        putType(ArtifactType.of("system.Dataset", Map.of()));
        putType(ArtifactType.of("system.Model", Map.of()));
        putType(ExecutionType.of(EXECUTION_TYPE, Map.of()));
        putType(ContextType.of(CONTEXT_TYPE, Map.of()));
        var name = namespace + "/" + monitor + "/" + runUid;
        if (metadata.findExecution(EXECUTION_TYPE, name).isPresent()) return;
        var dataset = existing(datasetUri, "system.Dataset").orElseGet(() -> Artifact.of("system.Dataset", datasetUri).withState(ArtifactState.LIVE)
                .withCustomProperty("monitor", PropertyValue.of(namespace + "/" + monitor)));
        var model = existing(modelUri, "system.Model").orElseGet(() -> Artifact.of("system.Model", modelUri).withState(ArtifactState.LIVE));
        var version = existing(storageUri, "system.Model").orElseGet(() -> Artifact.of("system.Model", storageUri).withState(ArtifactState.LIVE)
                .withCustomProperty("inference_service", PropertyValue.of(namespace + "/" + isvc)));
        var execution = Execution.of(EXECUTION_TYPE).withName(name).withState(ExecutionState.COMPLETE)
                .withCustomProperty("monitor", PropertyValue.of(namespace + "/" + monitor))
                .withCustomProperty("run_uid", PropertyValue.of(runUid))
                .withCustomProperty("inference_service", PropertyValue.of(namespace + "/" + isvc));
        var contexts = new ArrayList<Context>();
        contexts.add(metadata.findContext(CONTEXT_TYPE, namespace + "/" + monitor)
                .orElseGet(() -> metadata.putContext(Context.of(CONTEXT_TYPE, namespace + "/" + monitor)
                        .withCustomProperty("namespace", PropertyValue.of(namespace)))));
        metadata.findContext(RUN_CONTEXT, runUid).ifPresent(contexts::add);
        metadata.putExecution(execution, List.of(ArtifactAndEvent.input(dataset, "drifted_window"), ArtifactAndEvent.output(model, "model"),
                ArtifactAndEvent.output(version, "registered_version")), contexts);
    }

    private java.util.Optional<Artifact> existing(String uri, String type) {
        return metadata.artifactsByUri(uri).stream().filter(a -> a.type().equals(type)).findFirst();
    }

    private void putType(MetadataType type) {
        try {
            metadata.putType(type);
        } catch (ConflictException e) {
            metadata.putType(type);
        }
    }
}
