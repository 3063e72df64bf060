package io.capstan.monitoring.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.core.ConflictException;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.monitoring.RetrainingHooks;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.ResourceStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Drift-triggered retraining, one step per tested window: counts consecutive drifted windows; at
 * {@code afterWindows} exports the window (features and the served model's answers as labels) as a CSV artifact and
 * starts the pipeline with it; once the run succeeded, registers its model and rolls it out as a canary of the same
 * InferenceService. Its state lives in the monitor's {@code status.retraining}, so a restart picks it up.
 */
final class DriftRetraining {
    static final String PIPELINE_RUN = "PipelineRun";
    static final String PIPELINE_VERSION = "PipelineVersion";
    static final String MONITOR_LABEL = "monitoring.capstan.io/monitor";

    private final ResourceStore store;
    private final ArtifactStore artifacts;
    private final RetrainingHooks hooks;

    DriftRetraining(ResourceStore store, ArtifactStore artifacts, RetrainingHooks hooks) {
        this.store = store;
        this.artifacts = artifacts;
        this.hooks = hooks;
    }

    /** The next {@code status.retraining}, after a window was tested ({@code drifted} at dataset level). */
    ObjectNode step(ResourceKey monitor, String isvc, ModelMonitorSpec.Retrain retrain, List<String> features, PayloadRows window,
                    int fullRows, boolean drifted, JsonNode previous, Instant now) {
        var state = previous != null && previous.isObject() ? (ObjectNode) previous.deepCopy() : JsonNodeFactory.instance.objectNode();
        if (!state.has("phase")) state.put("phase", "Watching").put("consecutiveDriftedWindows", 0).put("retrainings", 0);
        var phase = state.path("phase").asText();
        if (phase.equals("Running")) return follow(monitor, isvc, retrain, state, now);
        // Windows count when full and disjoint: re-testing a window, or one that shares rows with the last counted, does
        // not make drift more sustained.
        if (window.inputs.size() < fullRows || window.firstSequence <= state.path("lastCountedRequest").asLong(-1)) return state;
        state.put("lastCountedRequest", window.lastSequence);
        int consecutive = drifted ? state.path("consecutiveDriftedWindows").asInt() + 1 : 0;
        state.put("consecutiveDriftedWindows", consecutive);
        if (consecutive < retrain.afterWindows() || window.inputs.isEmpty()) return state;
        return start(monitor, isvc, retrain, features, window, state, now);
    }

    private ObjectNode start(ResourceKey monitor, String isvc, ModelMonitorSpec.Retrain retrain, List<String> features, PayloadRows window,
                             ObjectNode state, Instant now) {
        int n = state.path("retrainings").asInt() + 1;
        var runName = monitor.name() + "-retrain-" + n;
        state.put("retrainings", n).put("consecutiveDriftedWindows", 0).put("run", runName).put("startedAt", now.toString());
        state.remove(List.of("model", "storageUri", "canaryTrafficPercent", "message", "finishedAt", "runUid"));
        String pipeline;
        try {
            pipeline = pipelineText(monitor, retrain);
        } catch (IllegalArgumentException e) {
            return state.put("phase", "Failed").put("message", e.getMessage());
        }
        var csv = csv(features, retrain, window);
        var key = "monitoring/" + monitor.namespace() + "/" + monitor.name() + "/" + runName + "-" + now.toEpochMilli() + "/window.csv";
        artifacts.put(key, new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)));
        var dataset = artifacts.uriOf(key);
        state.put("dataset", dataset).put("datasetRows", window.inputs.size()).put("driftedWindowLastRequest", window.lastSequence);
        var spec = JsonNodeFactory.instance.objectNode();
        spec.put("pipelineSpec", pipeline);
        var parameters = spec.putObject("parameters");
        retrain.parameters().forEach(parameters::set);
        parameters.put(retrain.datasetParameter(), dataset);
        var meta = ObjectMeta.named(monitor.namespace(), runName).withLabels(Map.of(MONITOR_LABEL, monitor.name()));
        try {
            var created = store.create(Resource.of("pipelines.capstan.io/v1", PIPELINE_RUN, meta, spec));
            state.put("runUid", created.metadata().uid());
        } catch (RuntimeException e) {
            return state.put("phase", "Failed").put("message", "pipeline run '" + runName + "' could not start: " + e.getMessage());
        }
        return state.put("phase", "Running").put("message", "started pipeline run '" + runName + "' on the drifted window's "
                + window.inputs.size() + " rows");
    }

    /** Waits for the run; once it succeeded, registers its model and makes it the InferenceService's canary. */
    private ObjectNode follow(ResourceKey monitor, String isvc, ModelMonitorSpec.Retrain retrain, ObjectNode state, Instant now) {
        var runName = state.path("run").asText();
        var run = store.find(new ResourceKey(PIPELINE_RUN, monitor.namespace(), runName));
        if (run.isEmpty()) return state.put("phase", "Failed").put("message", "pipeline run '" + runName + "' was deleted");
        var runPhase = run.get().status().phase();
        if (runPhase == null || !(runPhase.equals("Succeeded") || runPhase.equals("Failed") || runPhase.equals("Cancelled") || runPhase.equals("Error"))) {
            return state;
        }
        state.put("finishedAt", now.toString());
        if (!runPhase.equals("Succeeded")) {
            return state.put("phase", "Failed").put("message", "pipeline run '" + runName + "' ended " + runPhase);
        }
        var model = run.get().status().field("tasks").map(t -> t.path("root/" + retrain.modelTask()).path("outputs").path("artifacts")
                .path(retrain.modelOutput()).path(0).path("uri").asText("")).orElse("");
        if (model.isEmpty()) {
            return state.put("phase", "Failed").put("message", "pipeline run '" + runName + "' has no output artifact '" + retrain.modelOutput()
                    + "' of task '" + retrain.modelTask() + "' (spec.actions[0].retrain.model)");
        }
        state.put("model", model);
        String storageUri;
        try {
            storageUri = hooks.register(monitor.namespace(), retrain.registeredModel().orElse(isvc), runName, model, retrain.modelFormat(),
                    "retrained by ModelMonitor " + monitor.name() + " on drift, pipeline run " + runName);
        } catch (IllegalArgumentException e) {
            return state.put("phase", "Failed").put("message", "the model of run '" + runName + "' could not be registered: " + e.getMessage());
        }
        state.put("storageUri", storageUri);
        try {
            canary(new ResourceKey(ServingKinds.INFERENCE_SERVICE, monitor.namespace(), isvc), storageUri, retrain.canaryTrafficPercent());
        } catch (RuntimeException e) {
            return state.put("phase", "Failed").put("message", "InferenceService '" + isvc + "' was not updated: " + e.getMessage());
        }
        state.put("canaryTrafficPercent", retrain.canaryTrafficPercent());
        try {
            hooks.lineage(monitor.namespace(), monitor.name(), state.path("dataset").asText(), state.path("runUid").asText(), model, storageUri, isvc);
        } catch (RuntimeException e) {
            state.put("lineageWarning", "lineage not recorded: " + e.getMessage());
        }
        return state.put("phase", "RolledOut").put("message", "the model of run '" + runName + "' serves " + retrain.canaryTrafficPercent()
                + "% of InferenceService '" + isvc + "' as a canary");
    }

    private void canary(ResourceKey key, String storageUri, int percent) {
        for (int attempt = 1; ; attempt++) {
            var current = store.get(key);
            var spec = current.spec().deepCopy();
            var predictor = spec.with("predictor");
            predictor.with("model").put("storageUri", storageUri);
            predictor.put("canaryTrafficPercent", percent);
            try {
                store.update(current.withSpec(spec));
                return;
            } catch (ConflictException e) {
                if (attempt >= 5) throw e;
            }
        }
    }

    private String pipelineText(ResourceKey monitor, ModelMonitorSpec.Retrain retrain) {
        if (retrain.pipelineFile().isPresent()) {
            try {
                return Files.readString(retrain.pipelineFile().get());
            } catch (IOException e) {
                throw new IllegalArgumentException("spec.actions[0].retrain.pipeline.file: " + new UncheckedIOException(e).getMessage());
            }
        }
        var id = retrain.pipelineVersion().orElseThrow();
        for (var ns : List.of(monitor.namespace(), "default")) {
            var version = store.find(new ResourceKey(PIPELINE_VERSION, ns, id));
            if (version.isPresent() && version.get().spec().path("pipelineSpec").isTextual()) return version.get().spec().path("pipelineSpec").asText();
        }
        throw new IllegalArgumentException("spec.actions[0].retrain.pipeline.version: no uploaded pipeline version '" + id + "'");
    }

    /** The window as CSV: a header naming the features and the label column, then one row per served row. */
    static String csv(List<String> features, ModelMonitorSpec.Retrain retrain, PayloadRows window) {
        var out = new StringBuilder(String.join(",", features)).append(',').append(retrain.labelColumn()).append('\n');
        // by default the model's first integer output (a class label), else its first output
        var labelName = retrain.labelOutput().orElse(window.outputs.keySet().stream().filter(n -> Boolean.TRUE.equals(window.integral.get(n)))
                .findFirst().orElse(window.outputs.keySet().stream().findFirst().orElse("")));
        var labels = window.outputs.get(labelName);
        if (labels == null || labels.size() != window.inputs.size()) {
            throw new IllegalStateException("the window's output '" + labelName + "' does not have one value per row (spec.actions[0].retrain.labelOutput)");
        }
        boolean integral = Boolean.TRUE.equals(window.integral.get(labelName));
        for (int r = 0; r < window.inputs.size(); r++) {
            for (double v : window.inputs.get(r)) out.append(number(v)).append(',');
            double label = labels.get(r);
            out.append(integral ? Long.toString((long) label) : number(label)).append('\n');
        }
        return out.toString();
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        // FP32 inputs widened to double print as the float they were (7.4, not 7.400000095367432)
        return (double) (float) v == v ? Float.toString((float) v) : Double.toString(v);
    }
}
