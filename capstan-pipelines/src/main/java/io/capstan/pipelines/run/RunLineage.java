package io.capstan.pipelines.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.Json;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.ArtifactAndEvent;
import io.capstan.metadata.ArtifactState;
import io.capstan.metadata.ArtifactType;
import io.capstan.metadata.Context;
import io.capstan.metadata.ContextType;
import io.capstan.metadata.ExecutionState;
import io.capstan.metadata.ExecutionType;
import io.capstan.metadata.MetadataStore;
import io.capstan.metadata.MetadataType;
import io.capstan.metadata.ParentContext;
import io.capstan.metadata.PropertyType;
import io.capstan.metadata.PropertyValue;
import io.capstan.metadata.Execution;
import io.capstan.metadata.ExecutionRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Records runs and task executions in ML Metadata, and finds cached outputs. Every write is idempotent: an
 * execution is named {@code <run uid>/<task path>} and replaced when recorded again, artifacts are reused by URI,
 * and {@link MetadataStore#putExecution(Execution, List, List)} never repeats an event.
 *
 * <p>Cache entries: each successful execution carries the custom property {@code cache_key} and belongs to a
 * context of type {@value #CACHE_CONTEXT} named by that key, so that a hit is one indexed look-up by name.
 */
final class RunLineage {
    static final String RUN_CONTEXT = "system.PipelineRun";
    static final String EXPERIMENT_CONTEXT = "system.Experiment";
    static final String CACHE_CONTEXT = "capstan.TaskCache";
    static final String CONTAINER_EXECUTION = "system.ContainerExecution";
    static final String IMPORTER_EXECUTION = "system.ImporterExecution";
    private static final String OUTPUT_DIGESTS = "output_digests";
    private static final Map<String, PropertyType> EXECUTION_PROPERTIES = Map.of(
            "task_name", PropertyType.STRING, "state", PropertyType.STRING, "cache_state", PropertyType.STRING, "image", PropertyType.STRING);

    private final MetadataStore metadata;

    RunLineage(MetadataStore metadata) {
        this.metadata = metadata;
    }

    /** Registers the types; idempotent, called before the first record of a run. */
    void registerTypes() {
        putType(ContextType.of(RUN_CONTEXT, Map.of()));
        putType(ContextType.of(EXPERIMENT_CONTEXT, Map.of()));
        putType(ContextType.of(CACHE_CONTEXT, Map.of()));
        putType(ExecutionType.of(CONTAINER_EXECUTION, EXECUTION_PROPERTIES));
        putType(ExecutionType.of(IMPORTER_EXECUTION, EXECUTION_PROPERTIES));
    }

    /**
     * Registers a type, once more if another thread registered it at the same moment: runs reconciled side by
     * side (and the lanes of {@link RunPass#recordFinished()}) register the same types, and the loser of that race
     * gets a ConflictException although the type it wanted now exists.
     */
    private void putType(MetadataType type) {
        try {
            metadata.putType(type);
        } catch (ConflictException e) {
            metadata.putType(type);
        }
    }

    /** The run's context (named by the run uid), created with its experiment as parent; idempotent. */
    Context ensureRunContext(RunLayout layout, String experiment) {
        registerTypes();
        var run = metadata.findContext(RUN_CONTEXT, layout.uid()).orElseGet(() -> metadata.putContext(
                Context.of(RUN_CONTEXT, layout.uid())
                        .withCustomProperty("run_name", PropertyValue.of(layout.runName()))
                        .withCustomProperty("namespace", PropertyValue.of(layout.namespace()))
                        .withCustomProperty("pipeline_root", PropertyValue.of(layout.pipelineRoot()))));
        if (!experiment.isEmpty()) {
            var exp = metadata.findContext(EXPERIMENT_CONTEXT, experiment)
                    .orElseGet(() -> metadata.putContext(Context.of(EXPERIMENT_CONTEXT, experiment)));
            metadata.putParentContexts(List.of(new ParentContext(run.id(), exp.id())));
        }
        return run;
    }

    /**
     * What one finished task did, for {@link #recordTasks}.
     *
     * @param outputDigests the {@link OutputDigests} of its output artifacts, kept with its cache entry; empty if none
     */
    record TaskRecord(String taskPath, String taskName, String executionType, TaskState state, String image, String cacheKey,
                      ObjectNode inputs, ObjectNode inputArtifacts, ObjectNode outputs, ObjectNode outputDigests) {
    }

    /** A cache entry: the outputs to reuse, and the {@link OutputDigests} they had (empty for older entries). */
    record CachedOutputs(ObjectNode outputs, ObjectNode digests) {
    }

    /**
     * Records finished tasks with INPUT and OUTPUT events for their artifacts, all in one transaction; recording
     * a task again replaces its execution and adds no event twice.
     */
    void recordTasks(RunLayout layout, List<TaskRecord> tasks) {
        if (tasks.isEmpty()) return;
        var records = new ArrayList<ExecutionRecord>(tasks.size());
        for (var task : tasks) records.add(executionRecord(layout, task));
        try {
            metadata.putExecutions(records);
        } catch (ConflictException e) {
            // Another run created a context these tasks share (a cache key's capstan.TaskCache) in the same moment;
            // the transaction rolled back, and recording again finds that context.
            metadata.putExecutions(records);
        }
    }

    private ExecutionRecord executionRecord(RunLayout layout, TaskRecord task) {
        var name = layout.uid() + "/" + task.taskPath();
        var executionName = name.length() > 255 ? layout.uid() + "/" + PipelineRuns.sha256(task.taskPath()) : name;
        var execution = Execution.of(task.executionType()).withName(executionName)
                .withState(switch (task.state()) {
                    case SUCCEEDED -> ExecutionState.COMPLETE;
                    case CACHED -> ExecutionState.CACHED;
                    case CANCELLED -> ExecutionState.CANCELED;
                    case FAILED -> ExecutionState.FAILED;
                    case PENDING, RUNNING, SKIPPED -> ExecutionState.RUNNING;
                })
                .withProperty("task_name", PropertyValue.of(task.taskName()))
                .withProperty("state", PropertyValue.of(task.state().wireName()))
                .withProperty("cache_state", PropertyValue.of(task.state() == TaskState.CACHED ? "CACHED" : "NOT_CACHED"))
                .withProperty("image", PropertyValue.of(task.image()))
                .withCustomProperty("task_path", PropertyValue.of(task.taskPath()))
                .withCustomProperty("inputs", PropertyValue.struct(asMap(task.inputs())))
                .withCustomProperty("outputs", PropertyValue.struct(asMap(task.outputs())));
        if (!task.cacheKey().isEmpty()) execution = execution.withCustomProperty("cache_key", PropertyValue.of(task.cacheKey()));
        if (!task.outputDigests().isEmpty()) {
            execution = execution.withCustomProperty(OUTPUT_DIGESTS, PropertyValue.struct(asMap(task.outputDigests())));
        }
        var events = new ArrayList<ArtifactAndEvent>();
        task.inputArtifacts().properties().forEach(e -> e.getValue().forEach(a -> events.add(ArtifactAndEvent.input(artifact(a), e.getKey()))));
        if (task.state().isSuccess()) {
            task.outputs().path("artifacts").properties().forEach(e -> e.getValue().forEach(a -> events.add(ArtifactAndEvent.output(artifact(a), e.getKey()))));
        }
        var contexts = new ArrayList<Context>();
        contexts.add(Context.of(RUN_CONTEXT, layout.uid()));
        if (task.state() == TaskState.SUCCEEDED && !task.cacheKey().isEmpty()) contexts.add(Context.of(CACHE_CONTEXT, task.cacheKey()));
        return new ExecutionRecord(execution, events, contexts);
    }

    /** The outputs, with their digests, of the latest successful execution recorded under {@code cacheKey}. */
    Optional<CachedOutputs> findCached(String cacheKey) {
        var context = metadata.findContext(CACHE_CONTEXT, cacheKey);
        if (context.isEmpty()) return Optional.empty();
        var latest = metadata.executionsByContext(context.get().id()).stream()
                .filter(x -> x.lastKnownState() == ExecutionState.COMPLETE)
                .filter(x -> x.customProperties().get("cache_key") instanceof PropertyValue.StringValue s && s.value().equals(cacheKey))
                .max(Comparator.comparing(Execution::updateTime));
        if (latest.isEmpty() || !(latest.get().customProperties().get("outputs") instanceof PropertyValue.StructValue outputs)) {
            return Optional.empty();
        }
        var digests = latest.get().customProperties().get(OUTPUT_DIGESTS) instanceof PropertyValue.StructValue d
                ? readObject(d.json()) : Json.json().createObjectNode();
        return Optional.of(new CachedOutputs(readObject(outputs.json()), digests));
    }

    private Artifact artifact(JsonNode a) {
        var type = a.path("type").path("schemaTitle").asText("system.Artifact");
        var uri = a.path("uri").asText("");
        putType(ArtifactType.of(type, Map.of()));
        var existing = uri.isEmpty() ? Optional.<Artifact>empty()
                : metadata.artifactsByUri(uri).stream().filter(x -> x.type().equals(type)).findFirst();
        var artifact = existing.orElseGet(() -> Artifact.of(type, uri).withState(ArtifactState.LIVE))
                .withCustomProperty("display_name", PropertyValue.of(a.path("name").asText("")));
        if (a.path("metadata").isObject() && !a.get("metadata").isEmpty()) {
            artifact = artifact.withCustomProperty("metadata", PropertyValue.struct(asMap(a.get("metadata"))));
        }
        return artifact;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(JsonNode node) {
        return Json.json().convertValue(node, Map.class);
    }

    private static ObjectNode readObject(String json) {
        try {
            return (ObjectNode) Json.json().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored cache outputs are not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
