package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.Backend;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.Resource;
import io.capstan.pipelines.ComponentSpec;
import io.capstan.pipelines.Conditions;
import io.capstan.pipelines.DagSpec;
import io.capstan.pipelines.ExecutionPlan;
import io.capstan.pipelines.ExecutionPlan.DagPlan;
import io.capstan.pipelines.ExecutionPlan.Step;
import io.capstan.pipelines.ExecutionPlan.TaskPlan;
import io.capstan.pipelines.PipelineSpec;
import io.capstan.pipelines.PipelineTask;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One reconcile of one run: walks the DAGs from the root, advancing every task as far as the observed world
 * allows, and collects the workloads to launch once the new states are stored. Lives for one reconcile only; not
 * thread-safe.
 */
final class RunPass {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Conditions CONDITIONS = new Conditions();
    /** How a task's message starts when a cache entry was found but its outputs were gone or changed. */
    static final String CACHE_DISCARDED = "cache entry discarded: ";
    static final String QUOTA_WAIT = "waiting for quota: ";

    /** How the root DAG stands after this pass. */
    record Outcome(TaskState state, ObjectNode outputs, String message) {
    }

    private final PipelineRunSpec spec;
    private final ExecutionPlan plan;
    private final PipelineSpec ir;
    private final RunLayout layout;
    private final Backend backend;
    private final RunLineage lineage;
    private final KubernetesSettings platform;
    private final ArtifactTransfer transfer;
    private final StepWorkloads workloads;
    private final TaskInputs inputs;
    private final Instant now;
    private final Map<String, TaskStatus> tasks = new LinkedHashMap<>();
    private final List<Supplier<WorkloadSpec>> launches = new ArrayList<>();
    private final List<RunLineage.TaskRecord> finished = new ArrayList<>();
    private final List<String> quotaWaits = new ArrayList<>();
    private Duration wake;

    RunPass(Resource run, PipelineRunSpec spec, PipelineSpec ir, ExecutionPlan plan, RunLayout layout, Backend backend, RunLineage lineage,
            StepCommandRewriter rewriter, KubernetesSettings platform, ArtifactTransfer transfer, Instant now, Map<String, String> runEnv,
            boolean staged) {
        this.spec = spec;
        this.plan = plan;
        this.ir = ir;
        this.layout = layout;
        this.backend = backend;
        this.lineage = lineage;
        this.platform = platform;
        this.transfer = transfer;
        this.now = now;
        this.workloads = new StepWorkloads(layout, rewriter, platform, transfer, runEnv, staged);
        this.inputs = new TaskInputs(tasks, this::component, layout);
        run.status().field("tasks").ifPresent(t -> t.properties().forEach(e -> tasks.put(e.getKey(), TaskStatus.fromJson(e.getValue()))));
    }

    Outcome run() {
        var result = walkDag(PipelineSpec.ROOT, plan.root(), rootScope());
        return new Outcome(result.state(), result.outputs(), result.message());
    }

    /** The tasks as this pass left them, by path. */
    Map<String, TaskStatus> tasks() {
        return java.util.Collections.unmodifiableMap(tasks);
    }

    ObjectNode tasksJson() {
        var o = F.objectNode();
        tasks.forEach((path, st) -> o.set(path, st.toJson()));
        return o;
    }

    /** Why the first task that waits for its namespace's quota waits, if one does. */
    Optional<String> quotaWait() {
        return quotaWaits.stream().findFirst();
    }

    List<Supplier<WorkloadSpec>> launches() {
        return List.copyOf(launches);
    }

    Optional<Duration> wake() {
        return Optional.ofNullable(wake);
    }

    private void wakeIn(Duration d) {
        var at = d.isNegative() ? Duration.ZERO : d;
        if (wake == null || at.compareTo(wake) < 0) wake = at;
    }

    private TaskInputs.Scope rootScope() {
        var params = F.objectNode();
        ir.root().inputs().parameters().forEach((name, def) -> {
            var given = spec.parameters().get(name);
            if (given != null) params.set(name, ParameterValues.coerce(def.type(), given, "spec.parameters." + name));
            else if (def.hasDefault()) params.set(name, def.defaultValue());
            else if (!def.isOptional()) {
                throw InvalidSpecException.of("spec.parameters." + name, "the pipeline requires parameter '" + name + "' ("
                        + def.type().wireName() + "); give it under spec.parameters");
            }
        });
        return new TaskInputs.Scope(params, F.objectNode());
    }

    // ---- DAGs

    private record DagResult(TaskState state, ObjectNode outputs, String message) {
    }

    private DagResult walkDag(String dagPath, DagPlan dag, TaskInputs.Scope scope) {
        for (var task : dag.order()) advance(dagPath, task, scope);
        boolean done = true;
        boolean failed = false;
        boolean cancelled = false;
        var message = "";
        for (var task : dag.order()) {
            var st = tasks.get(dagPath + "/" + task.name());
            if (!st.state().isTerminal()) done = false;
            else if (st.state() == TaskState.FAILED || st.state() == TaskState.CANCELLED) {
                failed |= st.state() == TaskState.FAILED;
                cancelled |= st.state() == TaskState.CANCELLED;
                if (message.isEmpty()) message = "task " + dagPath + "/" + task.name() + " " + st.state().wireName().toLowerCase(java.util.Locale.ROOT)
                        + (st.message().isEmpty() ? "" : ": " + st.message());
            }
        }
        if (!done) return new DagResult(TaskState.RUNNING, F.objectNode(), "");
        var state = failed ? TaskState.FAILED : cancelled ? TaskState.CANCELLED : TaskState.SUCCEEDED;
        return new DagResult(state, dagOutputs(dagPath, dag.spec()), message);
    }

    private void advance(String dagPath, TaskPlan task, TaskInputs.Scope scope) {
        var path = dagPath + "/" + task.name();
        var st = tasks.computeIfAbsent(path, p -> TaskStatus.pending());
        if (st.state().isTerminal()) return;
        if (st.state() == TaskState.PENDING) {
            for (var up : task.upstream()) {
                var u = tasks.get(dagPath + "/" + up);
                if (u == null || !u.state().isTerminal()) return;
            }
            if (!task.isExitHandler()) {
                for (var up : task.upstream()) {
                    var u = tasks.get(dagPath + "/" + up);
                    if (!u.state().isSuccess()) {
                        tasks.put(path, st.withState(TaskState.SKIPPED, "upstream task '" + up + "' " + u.state().wireName().toLowerCase(java.util.Locale.ROOT), now));
                        return;
                    }
                }
            }
            try {
                st = inputs.resolve(dagPath, path, task, scope, st);
                if (task.isConditional()) {
                    var condition = task.task().triggerPolicy().condition();
                    if (!CONDITIONS.evaluate(condition, fields(st.inputs()), fields(st.inputArtifacts()))) {
                        tasks.put(path, st.withState(TaskState.SKIPPED, "condition " + condition + " is false", now));
                        return;
                    }
                }
                st = task.isLoop() ? startLoop(task, st) : startStep(path, task, st);
            } catch (InvalidSpecException | PermanentFailureException e) {
                st = st.withState(TaskState.FAILED, e.getMessage(), now);
            }
            tasks.put(path, st);
            if (st.state().isTerminal()) return;
        }
        if (task.isLoop()) advanceLoop(path, task, st);
        else advanceStep(path, task, st);
    }

    private static Map<String, JsonNode> fields(ObjectNode o) {
        var m = new LinkedHashMap<String, JsonNode>();
        o.properties().forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    private ObjectNode dagOutputs(String dagPath, DagSpec dag) {
        var params = F.objectNode();
        dag.outputParameters().forEach((name, source) -> {
            var selectors = switch (source) {
                case DagSpec.FromParameter p -> List.of(p.selector());
                case DagSpec.FromOneOf o -> o.selectors();
            };
            for (var sel : selectors) {
                var producer = tasks.get(dagPath + "/" + sel.producerSubtask());
                if (producer != null && producer.state().isSuccess() && producer.outputParameters().has(sel.outputKey())) {
                    params.set(name, producer.outputParameters().get(sel.outputKey()));
                    break;
                }
            }
        });
        var artifacts = F.objectNode();
        dag.outputArtifacts().forEach((name, selectors) -> {
            for (var sel : selectors) {
                var producer = tasks.get(dagPath + "/" + sel.producerSubtask());
                if (producer != null && producer.state().isSuccess() && !producer.outputArtifacts().path(sel.outputKey()).isEmpty()) {
                    artifacts.set(name, producer.outputArtifacts().get(sel.outputKey()));
                    break;
                }
            }
        });
        var out = F.objectNode();
        out.set("parameters", params);
        out.set("artifacts", artifacts);
        return out;
    }

    private ComponentSpec component(String name) {
        return ir.findComponent(name).orElseThrow(() -> new IllegalStateException("planned component " + name + " is missing"));
    }

    // ---- loops

    private TaskStatus startLoop(TaskPlan task, TaskStatus st) {
        var items = LoopIterations.items(task, st);
        var started = st.withItems(items);
        if (items.isEmpty()) return started.withOutputs(TaskStatus.emptyOutputs()).withState(TaskState.SUCCEEDED, "the loop has no items", now);
        return started.withState(TaskState.RUNNING, "", now);
    }

    private void advanceLoop(String path, TaskPlan task, TaskStatus loop) {
        var items = loop.items();
        int limit = task.task().parallelismLimit();
        var itemInput = LoopIterations.itemInput(task);
        boolean overArtifacts = task.task().iteration() instanceof PipelineTask.ArtifactIteration;
        int active = 0;
        for (int i = 0; i < items.size(); i++) {
            var st = tasks.get(path + "[" + i + "]");
            if (st != null && !st.state().isTerminal()) active++;
        }
        for (int i = 0; i < items.size(); i++) {
            var ipath = path + "[" + i + "]";
            var st = tasks.get(ipath);
            if (st == null) {
                if (limit > 0 && active >= limit) continue;
                var params = loop.inputs().deepCopy();
                var arts = loop.inputArtifacts().deepCopy();
                if (overArtifacts) arts.putArray(itemInput).add(items.get(i));
                else params.set(itemInput, items.get(i));
                try {
                    st = startStep(ipath, task, TaskStatus.pending().withInputs(params, arts));
                } catch (InvalidSpecException | PermanentFailureException e) {
                    st = TaskStatus.pending().withInputs(params, arts).withState(TaskState.FAILED, e.getMessage(), now);
                }
                tasks.put(ipath, st);
                if (!st.state().isTerminal()) active++;
            }
            if (!st.state().isTerminal()) advanceStep(ipath, task, st);
        }
        LoopIterations.finished(path, loop, tasks, now).ifPresent(done -> tasks.put(path, done));
    }

    // ---- steps

    /** Starts one task (or one loop iteration) whose inputs are resolved: runs it, or finds it in the cache. */
    private TaskStatus startStep(String path, TaskPlan task, TaskStatus st) {
        var component = component(task.component());
        return switch (task.step()) {
            case ExecutionPlan.SubDagStep s -> st.withState(TaskState.RUNNING, "", now);
            case ExecutionPlan.ResolverStep r -> throw new PermanentFailureException("task " + path
                    + " uses a resolver executor, which Capstan does not run yet; import the artifact with an importer instead");
            case ExecutionPlan.ImporterStep i -> {
                var importer = i.importer();
                var uri = !importer.uriConstant().isEmpty() ? importer.uriConstant()
                        : StepInvocation.text(st.inputs().get(importer.uriRuntimeParameter()));
                if (uri.isEmpty()) throw new PermanentFailureException("task " + path + ": the importer has no artifact URI; set artifactUri");
                var artifacts = F.objectNode();
                var outName = component.outputs().artifacts().keySet().stream().findFirst().orElse("artifact");
                var a = artifacts.putArray(outName).addObject();
                a.put("name", outName);
                a.putObject("type").put("schemaTitle", importer.typeSchema().schemaTitle()).put("schemaVersion", importer.typeSchema().schemaVersion());
                a.put("uri", uri);
                a.set("metadata", importer.metadata().isObject() ? importer.metadata() : F.objectNode());
                var outputs = F.objectNode();
                outputs.putObject("parameters");
                outputs.set("artifacts", artifacts);
                var done = st.withOutputs(outputs).withState(TaskState.SUCCEEDED, "", now);
                finished.add(new RunLineage.TaskRecord(path, task.name(), RunLineage.IMPORTER_EXECUTION, TaskState.SUCCEEDED,
                        "", "", done.inputs(), done.inputArtifacts(), done.outputs(), F.objectNode()));
                yield done;
            }
            case ExecutionPlan.ContainerStep c -> {
                if (KubernetesSettings.isSystemStep(c.container().image())) {
                    var done = st.withStep(c.container().image(), "").withOutputs(platform.runSystemStep(path, c.container().image(), st.inputs()))
                            .withState(TaskState.SUCCEEDED, "", now);
                    finished.add(new RunLineage.TaskRecord(path, task.name(), RunLineage.CONTAINER_EXECUTION, TaskState.SUCCEEDED,
                            done.image(), "", done.inputs(), done.inputArtifacts(), done.outputs(), F.objectNode()));
                    yield done;
                }
                if (c.container().command().isEmpty() && c.container().args().isEmpty()) {
                    throw new PermanentFailureException("task " + path + ": the container has neither command nor args, and locally "
                            + "the image's entrypoint is unknown; give the command in deploymentSpec");
                }
                var cacheKey = spec.enableCaching() && task.task().enableCache() ? StepCacheKey.of(component, c, st) : "";
                var withStep = st.withStep(c.container().image(), cacheKey);
                var note = "";
                if (!cacheKey.isEmpty()) {
                    var cached = lineage.findCached(cacheKey);
                    if (cached.isPresent()) {
                        var stale = OutputDigests.staleness(cached.get().outputs().path("artifacts") instanceof ObjectNode a ? a : F.objectNode(),
                                cached.get().digests(), transfer::digest);
                        // an output that is gone is not corrupt; one whose bytes changed is
                        if (stale.isEmpty() || stale.get().contains(OutputDigests.CHANGED)) transfer.cacheChecked(stale.isEmpty());
                        if (stale.isEmpty()) {
                            var hit = withStep.withOutputs(cached.get().outputs()).withState(TaskState.CACHED, "outputs reused from an earlier execution with the same cache key", now);
                            finished.add(new RunLineage.TaskRecord(path, task.name(), RunLineage.CONTAINER_EXECUTION, TaskState.CACHED,
                                    hit.image(), cacheKey, hit.inputs(), hit.inputArtifacts(), hit.outputs(), F.objectNode()));
                            yield hit;
                        }
                        note = CACHE_DISCARDED + stale.get() + "; running the step again";
                    }
                }
                var workloadId = PipelineRuns.workloadId(layout.uid(), path, 1);
                // Fails the task now, naming the field, when it asks for more than the machine has.
                workloads.invocation(path, task, component, c, withStep).requests(backend.capacity());
                platform.resolve(path, c.executorLabel(), workloadId, platformInputs(path, task, st)); // fails the task now on a missing secret
                yield withStep.withAttempt(1, workloadId, "").withState(TaskState.RUNNING, note, now);
            }
        };
    }

    private void advanceStep(String path, TaskPlan task, TaskStatus st) {
        switch (task.step()) {
            case ExecutionPlan.SubDagStep s -> {
                var result = walkDag(path, plan.dag(s.component()), new TaskInputs.Scope(st.inputs(), st.inputArtifacts()));
                if (result.state().isTerminal()) tasks.put(path, st.withOutputs(outputsOrEmpty(result.outputs())).withState(result.state(), result.message(), now));
            }
            case ExecutionPlan.ContainerStep c -> observeContainer(path, task, c, st);
            case ExecutionPlan.ImporterStep i -> {
            }
            case ExecutionPlan.ResolverStep r -> {
            }
        }
    }

    private static ObjectNode outputsOrEmpty(ObjectNode outputs) {
        return outputs.has("parameters") ? outputs : TaskStatus.emptyOutputs();
    }

    private void observeContainer(String path, TaskPlan task, ExecutionPlan.ContainerStep step, TaskStatus st) {
        if (!st.notBefore().isEmpty()) {
            var at = Instant.parse(st.notBefore());
            if (now.isBefore(at)) {
                wakeIn(Duration.between(now, at));
                return;
            }
        }
        var state = backend.find(st.workloadId());
        if (state.isEmpty()) {
            // Stored RUNNING but not launched yet (or launched by a process that crashed before the backend saw it).
            // The workload is made now, inputs downloaded included, so that an input that cannot be had fails the task.
            WorkloadSpec workload;
            try {
                workload = workloads.workload(path, task, component(task.component()), step, st, platformInputs(path, task, st));
            } catch (PermanentFailureException | InvalidSpecException e) {
                var failed = st.withState(TaskState.FAILED, e.getMessage(), now);
                record(path, task, failed);
                tasks.put(path, failed);
                return;
            }
            launches.add(() -> workload);
            wakeIn(PipelineRunReconciler.POLL);
            return;
        }
        var ws = state.get();
        switch (ws.phase()) {
            case QUEUED, RUNNING -> {
                // The task says why it waits while its namespace's quota is full, and stops saying so once it runs.
                ws.quotaWait().ifPresent(quotaWaits::add);
                var waiting = ws.quotaWait().map(why -> QUOTA_WAIT + why);
                if (waiting.isPresent() ? !st.message().equals(waiting.get()) : st.message().startsWith(QUOTA_WAIT)) {
                    tasks.put(path, st.withState(st.state(), waiting.orElse(""), now));
                }
                wakeIn(PipelineRunReconciler.POLL);
            }
            case SUCCEEDED -> {
                TaskStatus done;
                try {
                    var invocation = workloads.invocation(path, task, component(task.component()), step, st);
                    workloads.pullOutputs(invocation, st.workloadId());
                    var outputs = invocation.collectOutputs();
                    invocation.uploadOutputs(outputs);
                    // A re-run in place of a discarded cache entry keeps saying why it ran.
                    done = st.withOutputs(outputs).withState(TaskState.SUCCEEDED, st.message().startsWith(CACHE_DISCARDED) ? st.message() : "", now);
                } catch (PermanentFailureException e) {
                    done = st.withState(TaskState.FAILED, e.getMessage(), now);
                }
                record(path, task, done);
                tasks.put(path, done);
            }
            case FAILED, LOST, CANCELLED -> {
                var retry = task.task().retryPolicy();
                if (ws.phase() != WorkloadPhase.CANCELLED && st.attempts() <= retry.maxRetryCount()) {
                    int next = st.attempts() + 1;
                    var delay = backoff(retry, st.attempts());
                    var retried = st.withAttempt(next, PipelineRuns.workloadId(layout.uid(), path, next), delay.isZero() ? "" : now.plus(delay).toString());
                    tasks.put(path, new TaskStatus(retried.state(), retried.attempts(), retried.workloadId(), retried.startTime(), retried.endTime(),
                            retried.inputs(), retried.inputArtifacts(), retried.outputs(),
                            "attempt " + st.attempts() + " " + ws.message() + "; retrying", retried.image(), retried.cacheKey(), retried.notBefore(), retried.items()));
                    wakeIn(delay);
                } else {
                    var failed = st.withState(ws.phase() == WorkloadPhase.CANCELLED ? TaskState.CANCELLED : TaskState.FAILED,
                            (st.attempts() > 1 ? "attempt " + st.attempts() + " " : "") + ws.message(), now);
                    record(path, task, failed);
                    tasks.put(path, failed);
                }
            }
        }
    }

    private static Duration backoff(PipelineTask.RetryPolicy retry, int attempt) {
        if (retry.backoffDuration().isZero()) return Duration.ZERO;
        double factor = Math.pow(retry.backoffFactor() <= 0 ? 1 : retry.backoffFactor(), attempt - 1);
        var delay = Duration.ofMillis((long) Math.min(retry.backoffDuration().toMillis() * factor, retry.backoffMaxDuration().toMillis()));
        return delay.compareTo(retry.backoffMaxDuration()) > 0 ? retry.backoffMaxDuration() : delay;
    }

    /** Deferred to {@link #recordFinished()}, which the reconciler calls before it stores the new states. */
    private void record(String path, TaskPlan task, TaskStatus st) {
        var digests = st.state() == TaskState.SUCCEEDED && !st.cacheKey().isEmpty() ? OutputDigests.of(st.outputArtifacts(), transfer::digest) : F.objectNode();
        finished.add(new RunLineage.TaskRecord(path, task.name(), RunLineage.CONTAINER_EXECUTION, st.state(),
                st.image(), st.cacheKey(), st.inputs(), st.inputArtifacts(), st.outputs(), digests));
    }

    /**
     * Records in lineage every task that finished in this pass, in one transaction: one per task was most of a
     * reconcile's time when many steps end together. Must return before the states that say these tasks finished
     * are stored, so that a stored SUCCEEDED always has its lineage.
     */
    void recordFinished() {
        lineage.recordTasks(layout, finished);
        finished.clear();
    }

    /** Resolves the platform settings' parameter references as KFP's driver does: in the task's DAG, at launch. */
    private KubernetesSettings.Inputs platformInputs(String path, TaskPlan task, TaskStatus st) {
        var dagPath = path.substring(0, path.lastIndexOf('/'));
        return spec -> {
            if (spec.has("runtimeValue")) return Optional.of(spec.path("runtimeValue").path("constant"));
            if (spec.has("taskOutputParameter")) {
                var out = spec.get("taskOutputParameter");
                var producer = tasks.get(dagPath + "/" + out.path("producerTask").asText());
                if (producer == null || !producer.state().isSuccess()) return Optional.empty();
                return Optional.ofNullable(producer.outputParameters().get(out.path("outputParameterKey").asText()));
            }
            if (spec.has("componentInputParameter")) {
                var name = spec.get("componentInputParameter").asText();
                if (st.inputs().has(name)) return Optional.of(st.inputs().get(name));
                var scope = dagPath.equals(PipelineSpec.ROOT) ? rootScope().parameters()
                        : Optional.ofNullable(tasks.get(dagPath)).map(TaskStatus::inputs).orElseGet(F::objectNode);
                return Optional.ofNullable(scope.get(name));
            }
            return Optional.empty();
        };
    }
}
