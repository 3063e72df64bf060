package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.Ids;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.pipelines.run.RunPhase;
import io.capstan.store.LabelSelector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * KFP runs, each the engine's {@code PipelineRun} named by its run id. Display name, description, experiment and
 * storage state live in labels and annotations, because the engine owns the spec.
 *
 * <p>Retry: the engine cannot restart a finished run in place, so a retry is a new attempt, a PipelineRun with the
 * same pipeline and parameters and caching forced on, labelled {@code retry-of} the original. Tasks that succeeded
 * before are cache hits (CACHED) and only failed and not-run tasks execute again. The original's run id keeps
 * answering with the newest attempt's state, as KFP's retry keeps the run id; lists hide the attempts.
 */
final class RunCatalog {
    private static final Set<String> TERMINAL_TASK_STATES = Set.of("SUCCEEDED", "SKIPPED", "FAILED", "CANCELED");
    static final Set<String> KEYS = Set.of("run_id", "name", "display_name", "description", "created_at", "finished_at",
            "state", "storage_state", "experiment_id", "recurring_run_id", "pipeline_version_id");

    /** What a new run runs: exactly one of a pipeline version and an inline IR. */
    record Source(String pipelineId, String pipelineVersionId, String irText) {
    }

    private final KfpStore store;
    private final PipelineCatalog pipelines;
    /** A run attempt's lineage by its resource uid. */
    private final Function<String, TaskLineage> lineage;

    /** @param lineage reads a run attempt's lineage by its uid, for the task details of {@link #get} */
    RunCatalog(KfpStore store, PipelineCatalog pipelines, Function<String, TaskLineage> lineage) {
        this.store = store;
        this.pipelines = pipelines;
        this.lineage = lineage;
    }

    /**
     * Creates a run in {@code namespace}, which must be its experiment's; see {@link #namespaceFor} for how callers
     * pick it.
     */
    KfpWire.Run create(KfpWire.Run request, String namespace) {
        var ref = request.pipelineVersionReference();
        var source = source(ref == null ? "" : ref.pipelineId(), ref == null || ref.pipelineVersionId() == null
                ? request.pipelineVersionId() : ref.pipelineVersionId(), request.pipelineSpec(), namespace);
        var config = request.runtimeConfig();
        var parameters = Json.json().createObjectNode();
        if (config != null && config.parameters() != null) config.parameters().forEach(parameters::set);
        var root = config == null || config.pipelineRoot() == null ? "" : config.pipelineRoot();
        var id = Ids.uid();
        return run(createRun(namespace, id, source, parameters, root, nonNull(request.experimentId()), nonNull(request.displayName()),
                nonNull(request.description()), ""));
    }

    /**
     * The namespace of a new run or recurring run: its experiment's, else {@code requested}, else
     * {@value KfpKinds#NAMESPACE}. An experiment in another namespace than the one requested is a 400.
     */
    String namespaceFor(String experimentId, String requested) {
        if (experimentId == null || experimentId.isEmpty()) return requested.isEmpty() ? KfpKinds.NAMESPACE : requested;
        var ns = store.get(KfpKinds.EXPERIMENT, experimentId, "experiment").metadata().namespace();
        if (!requested.isEmpty() && !requested.equals(ns)) {
            throw InvalidSpecException.of("namespace", "experiment '" + experimentId + "' is in namespace '" + ns + "', not in '"
                    + io.capstan.core.Names.printable(requested) + "'; a run lives in its experiment's namespace");
        }
        return ns;
    }

    /**
     * Resolves what to run: a version by id, the newest version of a pipeline, or the inline IR. A run in
     * {@code namespace} may run shared pipelines and that namespace's own; another namespace's pipeline reads as not
     * found.
     */
    Source source(String pipelineId, String versionId, JsonNode inline, String namespace) {
        pipelineId = nonNull(pipelineId);
        versionId = nonNull(versionId);
        if (!pipelineId.isEmpty()) pipelines.getFor(pipelineId, namespace);
        if (!versionId.isEmpty()) {
            var v = pipelines.getVersionFor(versionId, namespace);
            if (!pipelineId.isEmpty() && !pipelineId.equals(v.pipelineId())) {
                throw InvalidSpecException.of("pipeline_version_reference.pipeline_version_id", "version '" + versionId
                        + "' belongs to pipeline '" + v.pipelineId() + "', not to '" + pipelineId + "'");
            }
            return new Source(v.pipelineId(), versionId, pipelines.irText(versionId));
        }
        if (!pipelineId.isEmpty()) {
            var latest = pipelines.latestVersionId(pipelineId);
            return new Source(pipelineId, latest, pipelines.irText(latest));
        }
        if (inline != null && !inline.isNull() && !inline.isEmpty()) {
            return new Source("", "", inline.isTextual() ? inline.asText() : inline.toString());
        }
        throw InvalidSpecException.of("pipeline_version_reference", "a run needs pipeline_version_reference (pipeline_id and "
                + "pipeline_version_id) or an inline pipeline_spec");
    }

    /** Creates the PipelineRun {@code id}; also used by the recurring-run scheduler. */
    Resource createRun(String namespace, String id, Source source, ObjectNode parameters, String pipelineRoot, String experimentId,
                       String displayName, String description, String recurringRunId) {
        if (!experimentId.isEmpty()) namespaceFor(experimentId, namespace);
        var spec = Json.json().createObjectNode();
        spec.put("pipelineSpec", source.irText());
        spec.set("parameters", parameters);
        if (!pipelineRoot.isEmpty()) spec.put("pipelineRoot", pipelineRoot);
        spec.put("enableCaching", true);
        spec.put("experiment", experimentId);
        var labels = new HashMap<String, String>();
        labels.put(KfpKinds.LABEL_STORAGE_STATE, ExperimentCatalog.StorageState.AVAILABLE.name());
        if (!experimentId.isEmpty()) labels.put(KfpKinds.LABEL_EXPERIMENT_ID, experimentId);
        if (!source.pipelineId().isEmpty()) labels.put(KfpKinds.LABEL_PIPELINE_ID, source.pipelineId());
        if (!source.pipelineVersionId().isEmpty()) labels.put(KfpKinds.LABEL_PIPELINE_VERSION_ID, source.pipelineVersionId());
        if (!recurringRunId.isEmpty()) labels.put(KfpKinds.LABEL_RECURRING_RUN_ID, recurringRunId);
        var annotations = new HashMap<String, String>();
        annotations.put(KfpKinds.ANNOTATION_DISPLAY_NAME, displayName.isEmpty() ? id : displayName);
        if (!description.isEmpty()) annotations.put(KfpKinds.ANNOTATION_DESCRIPTION, description);
        return store.create(PipelineRuns.RESOURCE_KIND, namespace, id, spec, labels, annotations);
    }

    KfpWire.Run get(String id) {
        return run(store.get(PipelineRuns.KIND, id, "run"));
    }

    ListRequest.Page<KfpWire.Run> list(ListRequest request, ListRequest.Scope scope, String experimentId) {
        var selector = experimentId.isEmpty() ? "!" + KfpKinds.LABEL_RETRY_OF
                : KfpKinds.LABEL_EXPERIMENT_ID + "=" + experimentId + ",!" + KfpKinds.LABEL_RETRY_OF;
        var rows = new ArrayList<ListRequest.Row<KfpWire.Run>>();
        for (var r : store.all(PipelineRuns.KIND, scope, LabelSelector.parse(selector))) {
            var run = summary(r);
            var m = new LinkedHashMap<String, Object>();
            m.put("run_id", run.runId());
            m.put("name", run.displayName());
            m.put("display_name", run.displayName());
            m.put("description", nonNull(run.description()));
            m.put("created_at", KfpStore.created(r));
            m.put("finished_at", nonNull(run.finishedAt()));
            m.put("state", run.state());
            m.put("storage_state", run.storageState());
            m.put("experiment_id", nonNull(run.experimentId()));
            m.put("recurring_run_id", nonNull(run.recurringRunId()));
            m.put("pipeline_version_id", nonNull(run.pipelineVersionId()));
            rows.add(new ListRequest.Row<>(run, run.runId(), m));
        }
        return request.page(rows);
    }

    /** Sets {@code spec.cancelled} on the run's newest attempt; the engine kills its steps and ends it Cancelled. */
    void terminate(String id) {
        var latest = latestAttempt(store.get(PipelineRuns.KIND, id, "run"));
        store.mutate(latest.key(), r -> {
            var spec = r.spec();
            spec.put("cancelled", true);
            return r.withSpec(spec);
        });
    }

    /** Starts a new attempt of a failed or cancelled run; see the class comment. */
    void retry(String id) {
        var original = store.get(PipelineRuns.KIND, id, "run");
        var latest = latestAttempt(original);
        var phase = RunPhase.ofWire(latest.status().phase());
        if (phase != RunPhase.FAILED && phase != RunPhase.CANCELLED) {
            throw new ConflictException("run '" + id + "' is " + state(latest) + "; only a FAILED or CANCELED run can be retried");
        }
        var spec = latest.spec();
        spec.put("enableCaching", true);
        spec.put("cancelled", false);
        var labels = new HashMap<>(latest.metadata().labels());
        labels.put(KfpKinds.LABEL_RETRY_OF, id);
        var attemptId = Ids.uid();
        store.create(PipelineRuns.RESOURCE_KIND, latest.metadata().namespace(), attemptId, spec, labels, latest.metadata().annotations());
        store.mutate(latest.key(), r -> {
            var annotations = new HashMap<>(r.metadata().annotations());
            annotations.put(KfpKinds.ANNOTATION_RETRIED_BY, attemptId);
            return r.withMetadata(r.metadata().withAnnotations(annotations));
        });
    }

    /** The workload of each task of the run's newest attempt that ran one, by task path, in task order. */
    Map<String, String> taskWorkloads(String id) {
        var latest = latestAttempt(store.get(PipelineRuns.KIND, id, "run"));
        var out = new LinkedHashMap<String, String>();
        latest.status().field("tasks").ifPresent(tasks -> tasks.properties().forEach(e -> {
            var w = e.getValue().path("workloadId").asText("");
            if (!w.isEmpty()) out.put(e.getKey(), w);
        }));
        return out;
    }

    void archive(String id) {
        setStorageState(id, ExperimentCatalog.StorageState.ARCHIVED);
    }

    void unarchive(String id) {
        setStorageState(id, ExperimentCatalog.StorageState.AVAILABLE);
    }

    void delete(String id) {
        var run = store.get(PipelineRuns.KIND, id, "run");
        var attempts = store.all(PipelineRuns.KIND, run.metadata().namespace(), LabelSelector.parse(KfpKinds.LABEL_RETRY_OF + "=" + id));
        for (var attempt : attempts) store.delete(attempt.key());
        store.delete(run.key());
    }

    void setStorageStateOfExperiment(String namespace, String experimentId, ExperimentCatalog.StorageState state) {
        for (var r : store.all(PipelineRuns.KIND, namespace, LabelSelector.parse(KfpKinds.LABEL_EXPERIMENT_ID + "=" + experimentId))) {
            setStorageState(r, state);
        }
    }

    private void setStorageState(String id, ExperimentCatalog.StorageState state) {
        setStorageState(store.get(PipelineRuns.KIND, id, "run"), state);
    }

    private void setStorageState(Resource run, ExperimentCatalog.StorageState state) {
        store.mutate(run.key(), r -> {
            var labels = new HashMap<>(r.metadata().labels());
            labels.put(KfpKinds.LABEL_STORAGE_STATE, state.name());
            return r.withMetadata(r.metadata().withLabels(labels));
        });
    }

    /** The newest attempt of a run: itself, or the end of its chain of retries. */
    private Resource latestAttempt(Resource run) {
        var current = run;
        for (int hops = 0; hops < 1000; hops++) {
            var next = current.metadata().annotations().get(KfpKinds.ANNOTATION_RETRIED_BY);
            if (next == null) return current;
            var found = store.store().find(new io.capstan.core.ResourceKey(PipelineRuns.KIND, run.metadata().namespace(), next));
            if (found.isEmpty()) return current;
            current = found.get();
        }
        return current;
    }

    /** KFP's RuntimeState of a run. */
    static String state(Resource r) {
        var phase = RunPhase.ofWire(r.status().phase());
        if (!phase.isTerminal() && r.spec().path("cancelled").asBoolean(false)) return "CANCELING";
        return switch (phase) {
            case PENDING -> "PENDING";
            case RUNNING -> "RUNNING";
            case SUCCEEDED -> "SUCCEEDED";
            case FAILED -> "FAILED";
            case CANCELLED -> "CANCELED";
        };
    }

    static boolean isTerminal(Resource r) {
        return RunPhase.ofWire(r.status().phase()).isTerminal();
    }

    /** The run as KFP's GetRun answers it: with the pipeline spec of an inline run and the details of every task. */
    private KfpWire.Run run(Resource original) {
        var r = latestAttempt(original);
        var ir = irObject(r.spec().path("pipelineSpec"));
        var recorded = lineage.apply(r.metadata().uid());
        var details = new KfpWire.RunDetails(recorded.contextId().orElse(null), tasks(original.metadata().name(), r, ir, recorded));
        return wire(original, r, isInline(original) ? ir : null, details);
    }

    /** The run as KFP's lists answer it: without the IR and the task details, which can be large. */
    private KfpWire.Run summary(Resource original) {
        return wire(original, latestAttempt(original), null, null);
    }

    private static boolean isInline(Resource run) {
        return run.metadata().labels().getOrDefault(KfpKinds.LABEL_PIPELINE_VERSION_ID, "").isEmpty();
    }

    private static KfpWire.Run wire(Resource original, Resource r, ObjectNode inline, KfpWire.RunDetails details) {
        var meta = original.metadata();
        var labels = meta.labels();
        var status = r.status();
        var created = KfpStore.created(original).toString();
        var started = status.field("startTime").map(JsonNode::asText).orElse("");
        var finished = status.field("completionTime").map(JsonNode::asText).orElse(null);
        var message = status.field("message").map(JsonNode::asText).orElse("");
        var state = state(r);
        var error = state.equals("FAILED") && !message.isEmpty() ? new KfpWire.RpcStatus(2, message) : null;
        var parameters = new LinkedHashMap<String, JsonNode>();
        r.spec().path("parameters").properties().forEach(e -> parameters.put(e.getKey(), e.getValue()));
        var versionId = labels.getOrDefault(KfpKinds.LABEL_PIPELINE_VERSION_ID, "");
        var reference = versionId.isEmpty() ? null : new KfpWire.PipelineVersionReference(labels.getOrDefault(KfpKinds.LABEL_PIPELINE_ID, ""), versionId);
        var history = new ArrayList<KfpWire.RuntimeStatus>();
        history.add(new KfpWire.RuntimeStatus(created, "PENDING", null));
        if (!started.isEmpty()) history.add(new KfpWire.RuntimeStatus(started, "RUNNING", null));
        if (isTerminal(r) && finished != null) history.add(new KfpWire.RuntimeStatus(finished, state, error));
        return new KfpWire.Run(labels.get(KfpKinds.LABEL_EXPERIMENT_ID), meta.name(),
                meta.annotations().getOrDefault(KfpKinds.ANNOTATION_DISPLAY_NAME, meta.name()),
                labels.getOrDefault(KfpKinds.LABEL_STORAGE_STATE, ExperimentCatalog.StorageState.AVAILABLE.name()),
                meta.annotations().get(KfpKinds.ANNOTATION_DESCRIPTION), versionId.isEmpty() ? null : versionId, inline, reference,
                new KfpWire.RuntimeConfig(parameters, r.spec().path("pipelineRoot").asText(null)), null, created,
                started.isEmpty() ? created : started, finished, state, error, details, labels.get(KfpKinds.LABEL_RECURRING_RUN_ID),
                List.copyOf(history));
    }

    private static ObjectNode irObject(JsonNode ir) {
        if (ir.isObject()) return (ObjectNode) ir;
        try {
            var tree = Json.yaml().readTree(ir.asText(""));
            return tree instanceof ObjectNode o ? o : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static List<KfpWire.TaskDetail> tasks(String runId, Resource r, ObjectNode ir, TaskLineage lineage) {
        var out = new ArrayList<KfpWire.TaskDetail>();
        var created = KfpStore.created(r).toString();
        var statusTasks = r.status().field("tasks").orElse(Json.json().createObjectNode());
        var paths = new ArrayList<String>();
        statusTasks.properties().forEach(e -> paths.add(e.getKey()));
        var dependents = ir == null ? Map.<String, List<String>>of() : TaskDependents.of(ir, paths);
        statusTasks.properties().forEach(e -> {
            var path = e.getKey();
            var t = e.getValue();
            int cut = path.lastIndexOf('/');
            var engineState = t.path("state").asText("PENDING");
            var state = switch (engineState) {
                case "CACHED" -> "SKIPPED";
                case "CANCELLED" -> "CANCELED";
                default -> engineState;
            };
            var message = t.path("message").asText("");
            var error = engineState.equals("FAILED") && !message.isEmpty() ? new KfpWire.RpcStatus(2, message) : null;
            var start = t.path("startTime").asText("");
            var end = t.path("endTime").asText("");
            var history = new ArrayList<KfpWire.RuntimeStatus>();
            if (!start.isEmpty()) history.add(new KfpWire.RuntimeStatus(start, "RUNNING", null));
            if (!end.isEmpty() && TERMINAL_TASK_STATES.contains(state)) history.add(new KfpWire.RuntimeStatus(end, state, error));
            var workload = t.path("workloadId").asText("");
            var inputs = Json.json().createObjectNode();
            inputs.set("parameters", t.path("inputs").isObject() ? t.get("inputs") : Json.json().createObjectNode());
            inputs.set("artifacts", t.path("inputArtifacts").isObject() ? t.get("inputArtifacts") : Json.json().createObjectNode());
            var children = dependents.getOrDefault(path, List.of()).stream().map(KfpWire.ChildTask::new).toList();
            out.add(new KfpWire.TaskDetail(runId, path, cut < 0 ? path : path.substring(cut + 1),
                    start.isEmpty() ? created : start, start.isEmpty() ? null : start, end.isEmpty() ? null : end,
                    workload.isEmpty() ? null : new KfpWire.ExecutorDetail(workload), state, lineage.executionId(path).orElse(null), error,
                    lineage.inputs(path), lineage.outputs(path), cut < 0 ? null : path.substring(0, cut),
                    history.isEmpty() ? null : List.copyOf(history), workload.isEmpty() ? null : workload, children.isEmpty() ? null : children,
                    new KfpWire.TaskExtension(engineState.equals("CACHED") ? "CACHED" : "NOT_CACHED", inputs,
                            t.path("outputs").isObject() ? t.get("outputs") : Json.json().createObjectNode())));
        });
        return out;
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }
}
