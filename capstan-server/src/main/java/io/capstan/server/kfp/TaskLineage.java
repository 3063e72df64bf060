package io.capstan.server.kfp;

import io.capstan.metadata.Event;
import io.capstan.metadata.MetadataStore;
import io.capstan.metadata.PathStep;
import io.capstan.metadata.PropertyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What ML Metadata holds about one run attempt: the id of its {@code system.PipelineRun} context, and for each task
 * the engine recorded, its execution and the artifacts each of its input and output slots used. The engine records
 * a task when it ends, so a running task has none yet.
 */
final class TaskLineage {
    /** The context type the engine files a run under, named by the run's uid; KFP's driver uses the same name. */
    static final String RUN_CONTEXT = "system.PipelineRun";
    private static final TaskLineage NONE = new TaskLineage(0, Map.of(), Map.of());

    /** 0 when MLMD has no context for the run yet. */
    private final long contextId;
    private final Map<String, Long> executionsByTask;
    private final Map<Long, List<Event>> eventsByExecution;

    private TaskLineage(long contextId, Map<String, Long> executionsByTask, Map<Long, List<Event>> eventsByExecution) {
        this.contextId = contextId;
        this.executionsByTask = executionsByTask;
        this.eventsByExecution = eventsByExecution;
    }

    /** No lineage: nothing recorded. */
    static TaskLineage none() {
        return NONE;
    }

    /** Reads the lineage of the run attempt whose resource uid is {@code runUid}. */
    static TaskLineage of(MetadataStore metadata, String runUid) {
        var context = metadata.findContext(RUN_CONTEXT, runUid);
        if (context.isEmpty()) return NONE;
        var executions = new HashMap<String, Long>();
        var events = new HashMap<Long, List<Event>>();
        for (var x : metadata.executionsByContext(context.get().id())) {
            if (!(x.customProperties().get("task_path") instanceof PropertyValue.StringValue path)) continue;
            executions.put(path.value(), x.id());
            events.put(x.id(), metadata.eventsByExecution(x.id()));
        }
        return new TaskLineage(context.get().id(), Map.copyOf(executions), Map.copyOf(events));
    }

    /** The MLMD id of the run's context, as an int64 string. */
    Optional<String> contextId() {
        return contextId == 0 ? Optional.empty() : Optional.of(Long.toString(contextId));
    }

    /** The MLMD id of the execution recorded for the task at {@code taskPath}, as an int64 string. */
    Optional<String> executionId(String taskPath) {
        return Optional.ofNullable(executionsByTask.get(taskPath)).map(String::valueOf);
    }

    /** The task's input artifact ids by input slot, in the order the events were recorded. */
    Map<String, KfpWire.ArtifactList> inputs(String taskPath) {
        return artifacts(taskPath, true);
    }

    /** The task's output artifact ids by output slot. */
    Map<String, KfpWire.ArtifactList> outputs(String taskPath) {
        return artifacts(taskPath, false);
    }

    private Map<String, KfpWire.ArtifactList> artifacts(String taskPath, boolean inputs) {
        var execution = executionsByTask.get(taskPath);
        if (execution == null) return Map.of();
        var ids = new LinkedHashMap<String, List<String>>();
        for (var e : eventsByExecution.getOrDefault(execution, List.of())) {
            if (e.type().isInput() != inputs) continue;
            var slot = e.path().stream().filter(s -> s instanceof PathStep.Key).map(s -> ((PathStep.Key) s).key()).findFirst();
            if (slot.isEmpty()) continue;
            ids.computeIfAbsent(slot.get(), k -> new ArrayList<>()).add(Long.toString(e.artifactId()));
        }
        var out = new LinkedHashMap<String, KfpWire.ArtifactList>();
        ids.forEach((slot, list) -> out.put(slot, new KfpWire.ArtifactList(List.copyOf(list))));
        return out;
    }
}
