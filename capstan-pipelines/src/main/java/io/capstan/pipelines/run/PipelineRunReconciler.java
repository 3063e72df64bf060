package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.artifacts.ArtifactLocator;
import io.capstan.backend.Backend;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.core.TransientException;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import io.capstan.pipelines.ExecutionPlan;
import io.capstan.pipelines.ParsedPipeline;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Runs PipelineRuns: each reconcile recomputes, from the plan and the task states in {@code status.tasks}, what
 * can run; writes the new task states (with their workload ids) to status first; then launches the workloads.
 *
 * <p>Durable before acting: a task is RUNNING with its workload id in the stored status before its process starts,
 * launch is idempotent on that id, and a task's outputs and lineage are recorded before it is marked SUCCEEDED. So
 * after a crash a new reconciler re-adopts running steps by id and never runs a succeeded task again. Keeps no
 * state in fields beyond a cache of parsed plans; thread-safe as long as the runtime serialises reconciles per key.
 */
public final class PipelineRunReconciler implements Reconciler {
    static final Duration POLL = Duration.ofMillis(100);
    /** Where the KFP API keeps a run's display name, which {@code {{$.pipeline_job_name}}} resolves to. */
    static final String DISPLAY_NAME_ANNOTATION = "pipelines.capstan.io/display-name";
    private static final int MAX_PLANS = 256;
    /** Where a run's artifacts go in Capstan's bucket when it names no pipeline root. */
    static final String DEFAULT_S3_PREFIX = "pipelines";
    /** Where a step reads its run's output artifacts: {@code GET $CAPSTAN_ARTIFACTS_URL[/content?task=..&output=..]}. */
    public static final String ARTIFACTS_URL_ENV = "CAPSTAN_ARTIFACTS_URL";

    private final ResourceStore store;
    private final Backend backend;
    private final RunLineage lineage;
    private final Path workRoot;
    private final Clock clock;
    private final StepCommandRewriter rewriter;
    private final io.capstan.core.ConfigResolver.Source configs;
    private final ArtifactTransfer transfer;
    private final io.capstan.core.security.WorkloadCredentials credentials;
    private final java.util.function.Supplier<String> apiBase;
    private final RunTraces traces;
    /** Steps run in pods: their attempt folders cross through S3 ({@link StepStage}), and artifacts must be in S3. */
    private final boolean staged;
    /**
     * Each run's workload token by run uid, made at the run's first pass on this replica and made again after
     * {@link #TOKEN_RENEWAL}, so that a step of a long run never starts with a token near its end (they last a day).
     */
    private final Map<String, MintedToken> runTokens = new java.util.concurrent.ConcurrentHashMap<>();
    static final Duration TOKEN_RENEWAL = Duration.ofHours(1);

    private record MintedToken(String token, java.time.Instant at) {
    }
    /**
     * Parsed and planned pipelines by run uid, each for the generation it was made from. Only a cache (what it
     * holds is a pure function of the stored spec), so the reconciler stays level-triggered; it also tells
     * {@link #findRun} which run a workload belongs to. Guarded by itself; nothing blocks while it is held.
     */
    private final Map<String, Planned> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Planned> eldest) {
            if (size() <= MAX_PLANS) return false;
            lastWritten.remove(eldest.getValue().key());
            return true;
        }
    };

    /** The run as this reconciler last stored it, by key, for runs in {@link #plans}; guarded by {@code plans}. */
    private final Map<ResourceKey, Resource> lastWritten = new java.util.HashMap<>();

    private record Planned(ResourceKey key, long generation, PipelineRunSpec spec, ParsedPipeline parsed, ExecutionPlan plan) {
    }

    /**
     * A reconciler that keeps artifacts where {@code artifacts} says: with Capstan's store in S3, a run's outputs go
     * to {@code s3://<bucket>/pipelines/<run uid>/<task>/<output>} unless the run names a pipeline root, and steps'
     * S3 inputs are downloaded before they start; with a local store, outputs stay in local folders and an
     * {@code s3://} pipeline root fails the run, naming the field.
     *
     * @param workRoot where run folders go: {@code <workRoot>/<run uid>/} holds task attempts, the workspace and,
     *                 unless the run names another pipeline root or S3 is configured, the artifacts
     * @param rewriter applied to every container step's resolved command before launch
     */
    public PipelineRunReconciler(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock,
                                 StepCommandRewriter rewriter, ArtifactLocator artifacts) {
        this(store, backend, metadata, workRoot, clock, rewriter, new ArtifactTransfer(Optional.of(artifacts)),
                io.capstan.core.security.WorkloadCredentials.none(), () -> "", io.capstan.core.tracing.Traces.off(), false);
    }

    /**
     * As the constructor above, giving each step of a run a token that may read that run's artifacts, in
     * {@code CAPSTAN_TOKEN}, and the URL of its run's artifacts in {@code CAPSTAN_ARTIFACTS_URL}.
     *
     * @param apiBase the base of Capstan's resource API, such as {@code http://127.0.0.1:8080/apis/capstan/v1}; asked
     *                when a step launches, since a server on an ephemeral port knows it only once it listens
     */
    public PipelineRunReconciler(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock,
                                 StepCommandRewriter rewriter, ArtifactLocator artifacts,
                                 io.capstan.core.security.WorkloadCredentials credentials, java.util.function.Supplier<String> apiBase) {
        this(store, backend, metadata, workRoot, clock, rewriter, artifacts, credentials, apiBase, io.capstan.core.tracing.Traces.off());
    }

    /**
     * As the constructor above, tracing each run with {@code tracer}: a span per run and one per step attempt, whose
     * context the step finds in {@code TRACEPARENT}.
     */
    public PipelineRunReconciler(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock,
                                 StepCommandRewriter rewriter, ArtifactLocator artifacts,
                                 io.capstan.core.security.WorkloadCredentials credentials, java.util.function.Supplier<String> apiBase,
                                 io.opentelemetry.api.trace.Tracer tracer) {
        this(store, backend, metadata, workRoot, clock, rewriter, new ArtifactTransfer(Optional.of(artifacts)), credentials, apiBase, tracer, false);
    }

    /**
     * A reconciler whose steps run where this server's folders are not, as Pods on Kubernetes: the same engine (DAG
     * order, retries, caching, loops, conditions, exit handlers), with each attempt's folder pushed to S3 before the
     * step launches and its outputs pulled back once it succeeded ({@link StepStage}). Commands run as written in
     * their images (no rewriting for this machine), and a run whose pipeline root is a local folder fails, naming the
     * field.
     *
     * @param artifacts Capstan's artifact store, which must be in S3
     */
    public static PipelineRunReconciler staged(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock,
                                               ArtifactLocator artifacts,
                                               io.opentelemetry.api.trace.Tracer tracer) {
        if (artifacts.bucket().isEmpty()) throw new IllegalArgumentException("steps staged through S3 need an artifact store in S3");
        return new PipelineRunReconciler(store, backend, metadata, workRoot, clock, StepCommandRewriter.IDENTITY,
                new ArtifactTransfer(Optional.of(artifacts)), io.capstan.core.security.WorkloadCredentials.none(), () -> "", tracer, true);
    }

    /**
     * A reconciler with no artifact store: outputs stay in local folders, and an {@code s3://} pipeline root fails the run.
     *
     * @param workRoot where run folders go: {@code <workRoot>/<run uid>/} holds task attempts, the workspace and,
     *                 unless the run names a {@code file://} pipeline root, the artifacts
     * @param rewriter applied to every container step's resolved command before launch
     */
    public PipelineRunReconciler(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock,
                                 StepCommandRewriter rewriter) {
        this(store, backend, metadata, workRoot, clock, rewriter, ArtifactTransfer.NONE,
                io.capstan.core.security.WorkloadCredentials.none(), () -> "", io.capstan.core.tracing.Traces.off(), false);
    }

    private PipelineRunReconciler(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock,
                                  StepCommandRewriter rewriter, ArtifactTransfer transfer,
                                  io.capstan.core.security.WorkloadCredentials credentials, java.util.function.Supplier<String> apiBase,
                                  io.opentelemetry.api.trace.Tracer tracer, boolean staged) {
        this.traces = new RunTraces(tracer);
        this.transfer = transfer;
        this.staged = staged;
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.apiBase = Objects.requireNonNull(apiBase, "apiBase");
        this.store = Objects.requireNonNull(store, "store");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.lineage = new RunLineage(Objects.requireNonNull(metadata, "metadata"));
        this.workRoot = Objects.requireNonNull(workRoot, "workRoot");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.rewriter = Objects.requireNonNull(rewriter, "rewriter");
        this.configs = KubernetesSettings.ConfigSource.of(store);
    }

    /** As the full constructor, with commands launched as resolved. */
    public PipelineRunReconciler(ResourceStore store, Backend backend, MetadataStore metadata, Path workRoot, Clock clock) {
        this(store, backend, metadata, workRoot, clock, StepCommandRewriter.IDENTITY);
    }

    @Override
    public String kind() {
        return PipelineRuns.KIND;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = current(key);
        if (found.isEmpty()) {
            traces.deleted(key, clock.instant());
            cancelOrphans();
            return Result.done();
        }
        var run = found.get();
        var phase = RunPhase.ofWire(run.status().phase());
        if (phase.isTerminal()) {
            forget(run.metadata().uid());
            traces.ended(run, phase, run.status().field("message").map(JsonNode::asText).orElse(""), clock.instant());
        }
        if (phase == RunPhase.CANCELLED) {
            cancelLiveWorkloads(run.metadata().uid());
            return Result.done();
        }
        if (phase.isTerminal()) return Result.done();

        Planned planned;
        try {
            planned = planned(run);
        } catch (InvalidSpecException e) {
            return fail(run, "the pipeline is not valid: " + e.getMessage());
        }
        if (staged && phase == RunPhase.PENDING) {
            // A run made through the KFP API was not checked on apply: what a pod cannot see fails it here, naming the field.
            var problems = new io.capstan.core.Problems();
            StagedRuns.validate(run.spec(), problems);
            try {
                problems.throwIfAny();
            } catch (InvalidSpecException e) {
                return fail(run, "the pipeline cannot run on the Kubernetes backend: " + e.getMessage());
            }
        }
        var spec = planned.spec();
        var parsed = planned.parsed();
        var plan = planned.plan();
        var warnings = JsonNodeFactory.instance.arrayNode();
        plan.warnings().forEach(w -> warnings.add(w.toString()));
        RunLayout layout;
        try {
            layout = layout(run, spec);
        } catch (InvalidSpecException e) {
            return fail(run, e.getMessage());
        }
        if (spec.cancelled()) return cancel(run, warnings);

        if (phase == RunPhase.PENDING) lineage.ensureRunContext(layout, spec.experiment());
        var platform = new KubernetesSettings(parsed.platform().raw(), layout, configs);
        var pass = new RunPass(run, spec, parsed.spec(), plan, layout, backend, lineage, rewriter, platform, transfer, clock.instant(),
                runEnv(layout), staged);
        RunPass.Outcome outcome;
        try {
            outcome = pass.run();
        } catch (InvalidSpecException e) {
            return fail(run, e.getMessage());
        }
        pass.recordFinished();
        var next = run.status()
                .withObservedGeneration(run.metadata().generation())
                .withField("tasks", pass.tasksJson())
                .withField("runFolder", TextNode.valueOf(layout.runDir().toString()))
                .withField("pipelineRoot", TextNode.valueOf(layout.pipelineRoot()));
        if (!warnings.isEmpty()) next = next.withField("warnings", warnings);
        if (next.field("startTime").isEmpty()) next = next.withField("startTime", TextNode.valueOf(clock.instant().toString()));
        var newPhase = switch (outcome.state()) {
            case SUCCEEDED, CACHED -> RunPhase.SUCCEEDED;
            case FAILED, SKIPPED -> RunPhase.FAILED;
            case CANCELLED -> RunPhase.CANCELLED;
            case PENDING, RUNNING -> RunPhase.RUNNING;
        };
        next = next.withPhase(newPhase.wireName());
        var quotaWait = pass.quotaWait();
        next = quotaWait.isPresent() && !newPhase.isTerminal() ? QuotaCondition.waiting(next, quotaWait.get(), clock.instant())
                : QuotaCondition.cleared(next, clock.instant());
        if (newPhase.isTerminal()) {
            next = next.withField("outputs", outcome.outputs())
                    .withField("completionTime", TextNode.valueOf(clock.instant().toString()))
                    .withCondition("Succeeded", newPhase == RunPhase.SUCCEEDED, newPhase.wireName(), outcome.message(), clock.instant());
            if (!outcome.message().isEmpty()) next = next.withField("message", TextNode.valueOf(outcome.message()));
        }
        if (!next.equals(run.status())) remember(store.updateStatus(run, next));
        if (traces.on()) traces.passed(run, parsed.spec().pipelineInfo().name(), RunTraces.tasksOf(run), pass.tasks(), newPhase, clock.instant());
        // Only now that the RUNNING states and workload ids are stored do their processes start.
        for (var launch : pass.launches()) backend.launch(traces.launching(launch.get()));
        if (newPhase.isTerminal()) {
            forget(run.metadata().uid());
            return Result.done();
        }
        return Result.requeueAfter(pass.wake().orElse(POLL));
    }

    /**
     * The run that launched {@code workloadId}, while this reconciler is working on it: for a backend's
     * on-finish hook to wake the run at once rather than at its next poll. Empty for other workloads.
     */
    public Optional<ResourceKey> findRun(String workloadId) {
        Objects.requireNonNull(workloadId, "workloadId");
        if (!PipelineRuns.isRunWorkload(workloadId)) return Optional.empty();
        synchronized (plans) {
            return Optional.ofNullable(plans.get(PipelineRuns.uidOfWorkload(workloadId))).map(Planned::key);
        }
    }

    /**
     * The stored run. A big run's body is mostly its task states, and a reconcile follows the previous one's status
     * write at once: reading and parsing that body back was a seventh of a reconcile. So the run this reconciler
     * last wrote is kept, and used while the store says its resourceVersion is still the stored one.
     */
    private Optional<Resource> current(ResourceKey key) {
        Resource written;
        synchronized (plans) {
            written = lastWritten.get(key);
        }
        if (written != null) {
            var stored = store.resourceVersion(key);
            if (stored.isPresent() && stored.get().equals(written.metadata().resourceVersion())) return Optional.of(written);
        }
        return store.find(key);
    }

    private void remember(Resource written) {
        synchronized (plans) {
            if (plans.containsKey(written.metadata().uid())) lastWritten.put(written.key(), written);
        }
    }

    private Planned planned(Resource run) {
        var uid = run.metadata().uid();
        long generation = run.metadata().generation();
        synchronized (plans) {
            var cached = plans.get(uid);
            if (cached != null && cached.generation() == generation) return cached;
        }
        var spec = PipelineRunSpec.of(run.spec());
        var made = spec.planned();
        var planned = new Planned(run.key(), generation, spec, made.parsed(), made.plan());
        synchronized (plans) {
            plans.put(uid, planned);
        }
        return planned;
    }

    /**
     * What every step of the run finds in its environment: a token scoped to reading this run's artifacts (minted once
     * per run and replica, never the admin's), and where to read them. Empty where no server gives tokens out.
     */
    private Map<String, String> runEnv(RunLayout layout) {
        var base = apiBase.get();
        if (base.isEmpty()) return Map.of();
        var now = clock.instant();
        var token = runTokens.compute(layout.uid(), (uid, minted) -> minted != null && minted.at().plus(TOKEN_RENEWAL).isAfter(now) ? minted
                : new MintedToken(credentials.tokenFor(new io.capstan.core.security.WorkloadScope(
                        layout.namespace(), io.capstan.core.security.WorkloadScope.RUN_ARTIFACTS, layout.runName())), now)).token();
        if (token.isEmpty()) return Map.of();
        return Map.of(io.capstan.core.security.WorkloadCredentials.ENV, token,
                ARTIFACTS_URL_ENV, base + "/namespaces/" + layout.namespace() + "/pipelineruns/" + layout.runName() + "/artifacts");
    }

    private void forget(String uid) {
        runTokens.remove(uid);
        synchronized (plans) {
            var planned = plans.remove(uid);
            if (planned != null) lastWritten.remove(planned.key());
        }
    }

    private RunLayout layout(Resource run, PipelineRunSpec spec) {
        var meta = run.metadata();
        var runDir = workRoot.resolve(meta.uid()).toAbsolutePath();
        var root = pipelineRoot(spec, runDir);
        if (staged && !root.startsWith(ArtifactTransfer.S3)) {
            throw InvalidSpecException.of(spec.pipelineRoot().isEmpty() ? "spec.pipelineSpec.defaultPipelineRoot" : "spec.pipelineRoot",
                    "pipeline root '" + io.capstan.core.Names.printable(root) + "' is a folder of this server, which steps running in pods cannot see; "
                            + "leave it out (artifacts then go to Capstan's bucket) or name an s3:// root");
        }
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw new TransientException("run " + meta.name() + ": cannot create its folder " + runDir + ": " + e.getMessage(), e);
        }
        var created = meta.created().map(t -> t.truncatedTo(ChronoUnit.SECONDS).toString()).orElse("");
        var displayName = meta.annotations().getOrDefault(DISPLAY_NAME_ANNOTATION, "");
        return new RunLayout(meta.name(), displayName.isBlank() ? meta.name() : displayName, meta.namespace(), meta.uid(), created, runDir, root);
    }

    /**
     * The run's pipeline root, with no trailing slash: the one it names ({@code spec.pipelineRoot}, else the
     * pipeline's {@code defaultPipelineRoot}), a local folder or {@code s3://bucket[/prefix]}; else
     * {@code s3://<Capstan's bucket>/pipelines} where S3 is configured, and the run folder's {@code artifacts/} where not.
     *
     * @throws InvalidSpecException naming the field, for an {@code s3://} root without S3 configured or a root that
     *                              is neither local nor S3
     */
    private String pipelineRoot(PipelineRunSpec spec, Path runDir) {
        var field = "spec.pipelineRoot";
        var root = spec.pipelineRoot();
        if (root.isEmpty()) {
            field = "spec.pipelineSpec.defaultPipelineRoot";
            root = defaultRoot(spec);
        }
        if (root.isEmpty()) {
            return transfer.bucket().map(b -> ArtifactTransfer.S3 + b + "/" + DEFAULT_S3_PREFIX)
                    .orElse(RunLayout.FILE + runDir.resolve("artifacts"));
        }
        String resolved;
        if (root.startsWith(RunLayout.FILE)) {
            resolved = root;
        } else if (root.startsWith("/")) {
            resolved = RunLayout.FILE + root;
        } else if (root.regionMatches(true, 0, ArtifactTransfer.S3, 0, ArtifactTransfer.S3.length())) {
            if (transfer.bucket().isEmpty()) {
                throw InvalidSpecException.of(field, ("pipeline root '%s' is in S3, but this server has no S3 configured; set CAPSTAN_S3_BUCKET"
                        + " and CAPSTAN_S3_ENDPOINT (and CAPSTAN_S3_ACCESS_KEY and CAPSTAN_S3_SECRET_KEY), or give a local folder such as file:///data/pipelines")
                        .formatted(io.capstan.core.Names.printable(root)));
            }
            var rest = root.substring(ArtifactTransfer.S3.length()).replaceAll("/+$", "");
            var slash = rest.indexOf('/');
            var bucket = slash < 0 ? rest : rest.substring(0, slash);
            var prefix = slash < 0 ? "" : rest.substring(slash + 1);
            try {
                io.capstan.artifacts.ArtifactUri.ofS3(bucket, prefix.isEmpty() ? DEFAULT_S3_PREFIX : prefix);
            } catch (InvalidSpecException e) {
                throw InvalidSpecException.of(field, "pipeline root '" + io.capstan.core.Names.printable(root) + "': " + e.getMessage());
            }
            resolved = ArtifactTransfer.S3 + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
        } else {
            throw InvalidSpecException.of(field, ("pipeline root '%s' is neither a local folder nor in S3; Capstan keeps artifacts in a local folder"
                    + " (/abs/path or file:///abs/path) or in S3 (s3://bucket/prefix, with CAPSTAN_S3_* configured)").formatted(io.capstan.core.Names.printable(root)));
        }
        while (resolved.endsWith("/") && resolved.length() > RunLayout.FILE.length() + 1) resolved = resolved.substring(0, resolved.length() - 1);
        return resolved;
    }

    private static String defaultRoot(PipelineRunSpec spec) {
        var ir = spec.pipelineSpec();
        if (ir.isObject()) return ir.path("defaultPipelineRoot").asText("");
        return "";
    }

    private Result fail(Resource run, String message) {
        var now = clock.instant();
        var next = run.status().withPhase(RunPhase.FAILED.wireName())
                .withObservedGeneration(run.metadata().generation())
                .withField("message", TextNode.valueOf(message))
                .withField("completionTime", TextNode.valueOf(now.toString()))
                .withCondition("Succeeded", false, "InvalidPipeline", message, now);
        store.updateStatus(run.key(), run.metadata().resourceVersion(), next);
        traces.ended(run, RunPhase.FAILED, message, now);
        return Result.done();
    }

    /** Marks every unfinished task CANCELLED, stores that, and only then kills the run's processes. */
    private Result cancel(Resource run, ArrayNode warnings) {
        var now = clock.instant();
        var tasks = run.status().field("tasks").filter(JsonNode::isObject).map(n -> (ObjectNode) n.deepCopy())
                .orElseGet(JsonNodeFactory.instance::objectNode);
        tasks.properties().forEach(e -> {
            var st = TaskStatus.fromJson(e.getValue());
            if (!st.state().isTerminal()) e.setValue(st.withState(TaskState.CANCELLED, "the run was cancelled", now).toJson());
        });
        var next = run.status().withPhase(RunPhase.CANCELLED.wireName())
                .withObservedGeneration(run.metadata().generation())
                .withField("tasks", tasks)
                .withField("completionTime", TextNode.valueOf(now.toString()))
                .withCondition("Succeeded", false, "Cancelled", "the run was cancelled", now);
        if (!warnings.isEmpty()) next = next.withField("warnings", warnings);
        store.updateStatus(run.key(), run.metadata().resourceVersion(), next);
        traces.ended(run, RunPhase.CANCELLED, "the run was cancelled", now);
        cancelLiveWorkloads(run.metadata().uid());
        return Result.done();
    }

    private void cancelLiveWorkloads(String uid) {
        var prefix = PipelineRuns.workloadPrefix(uid);
        for (var w : backend.list()) {
            if (w.id().startsWith(prefix) && !w.phase().isTerminal()) backend.cancel(w.id());
        }
    }

    /** Cancels the workloads of runs deleted while no replica led. */
    @Override
    public void sweep() {
        backend.reapOrphans(PipelineRuns::ownerOf, () -> store.uids(PipelineRuns.KIND));
    }

    /** Cancels the workloads of deleted runs; called when a reconcile finds its run gone. */
    private void cancelOrphans() {
        backend.reapOrphans(PipelineRuns::ownerOf, store.uids(PipelineRuns.KIND));
    }

}
