package io.capstan.server.jobs;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.backend.ContainerOptions;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.ConfigResolver;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Runs each Job's command on the backend and mirrors the workload's state into the Job's status.
 *
 * <p>Durable before acting: the attempt number and workload id are written to status before the workload is
 * launched, and launch is idempotent on that id, so a crash between the two steps relaunches nothing twice. After
 * a restart the backend re-adopts live processes; a workload lost while the server was down is retried as
 * {@code backoffLimit} allows.
 */
public final class JobReconciler implements Reconciler {
    static final Duration POLL = Duration.ofMillis(200);
    /** How often a Job waiting for a missing secret or config map looks again. */
    static final Duration CONFIG_RETRY = Duration.ofSeconds(2);

    private final ResourceStore store;
    private final Backend backend;
    private final Path workRoot;
    private final Clock clock;
    private final ConfigResolver configs;

    public JobReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock) {
        this.store = store;
        this.configs = new ConfigResolver(ConfigResolver.Source.of(store::find));
        this.backend = backend;
        this.workRoot = workRoot;
        this.clock = clock;
    }

    @Override
    public String kind() {
        return Jobs.KIND;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            cancelOrphans();
            return Result.done();
        }
        var job = found.get();
        var status = job.status();
        if (JobPhase.ofStatus(status.phase()).isTerminal()) return Result.done();
        var spec = JobSpec.of(job.spec());
        int attempt = status.field("attempts").map(n -> n.asInt()).orElse(0);
        var workloadId = status.field("workloadId").map(n -> n.asText());

        if (attempt == 0 || workloadId.isEmpty()) {
            return startAttempt(job, spec, 1);
        }
        var state = backend.find(workloadId.get());
        if (state.isEmpty()) {
            // Status was written but the launch never happened (or its record vanished): launch is idempotent.
            return launch(job.key(), spec, workloadId.get());
        }
        return observe(job, spec, attempt, state.get());
    }

    /**
     * Launches the attempt; while a secret or config map it needs is missing, the Job waits as a pod would
     * ({@code CreateContainerConfigError}), saying which one, and tries again.
     */
    private Result launch(ResourceKey key, JobSpec spec, String workloadId) {
        var job = store.get(key);
        try {
            backend.launch(workload(job, spec, workloadId));
            return Result.requeueAfter(POLL);
        } catch (ConfigResolver.ConfigReferenceException e) {
            var next = job.status().withPhase(JobPhase.Pending.name())
                    .withCondition("Running", false, "CreateContainerConfigError", e.getMessage(), clock.instant());
            if (!next.equals(job.status())) store.updateStatus(job, next);
            return Result.requeueAfter(CONFIG_RETRY);
        }
    }

    private Result startAttempt(Resource job, JobSpec spec, int attempt) {
        var id = Jobs.workloadId(job.metadata().uid(), attempt);
        var next = job.status()
                .withPhase(JobPhase.Pending.name())
                .withObservedGeneration(job.metadata().generation())
                .withField("attempts", IntNode.valueOf(attempt))
                .withField("workloadId", TextNode.valueOf(id))
                .withCondition("Running", false, "Launching", "attempt " + attempt + " of " + (spec.backoffLimit() + 1), clock.instant());
        store.updateStatus(job.key(), job.metadata().resourceVersion(), next);
        return launch(job.key(), spec, id);
    }

    private Result observe(Resource job, JobSpec spec, int attempt, WorkloadState state) {
        var status = job.status().withObservedGeneration(job.metadata().generation());
        var now = clock.instant();
        if (state.phase() != io.capstan.backend.WorkloadPhase.QUEUED) status = io.capstan.core.quota.QuotaCondition.cleared(status, now);
        ResourceStatus next;
        Result result;
        switch (state.phase()) {
            case QUEUED -> {
                next = state.quotaWait().isPresent()
                        ? io.capstan.core.quota.QuotaCondition.waiting(status.withPhase(JobPhase.Pending.name())
                                .withCondition("Running", false, io.capstan.core.quota.QuotaCondition.EXCEEDED, state.quotaWait().get(), now), state.quotaWait().get(), now)
                        : status.withPhase(JobPhase.Pending.name())
                                .withCondition("Running", false, "Queued", "waiting for CPU, memory or GPUs to free up", now);
                result = Result.requeueAfter(POLL);
            }
            case RUNNING -> {
                next = withTime(status, "startTime", state.startedAt()).withPhase(JobPhase.Running.name())
                        .withCondition("Running", true, "Started", "", now);
                result = Result.requeueAfter(POLL);
            }
            case SUCCEEDED -> {
                removeVolumes(state.id());
                next = finished(status, state).withPhase(JobPhase.Succeeded.name())
                        .withCondition("Running", false, "Completed", "", now)
                        .withCondition("Succeeded", true, "Completed", state.message(), now);
                result = Result.done();
            }
            case FAILED, CANCELLED, LOST -> {
                if (attempt <= spec.backoffLimit() && state.phase() != WorkloadPhase.CANCELLED) {
                    removeVolumes(state.id());
                    var retried = job.withStatus(finished(status, state)
                            .withField("message", TextNode.valueOf("attempt " + attempt + " failed: " + state.message() + "; retrying")));
                    return startAttempt(retried, spec, attempt + 1);
                }
                removeVolumes(state.id());
                var reason = state.phase() == WorkloadPhase.LOST ? "Lost" : state.phase() == WorkloadPhase.CANCELLED ? "Cancelled" : "Failed";
                next = finished(status, state).withPhase(JobPhase.Failed.name())
                        .withCondition("Running", false, reason, "", now)
                        .withCondition("Succeeded", false, reason, state.message(), now);
                result = Result.done();
            }
            default -> throw new IllegalStateException("unknown workload phase " + state.phase());
        }
        if (!next.equals(job.status())) store.updateStatus(job.key(), job.metadata().resourceVersion(), next);
        return result;
    }

    private static ResourceStatus finished(ResourceStatus status, WorkloadState state) {
        var next = withTime(withTime(status, "startTime", state.startedAt()), "completionTime", state.finishedAt())
                .withField("message", TextNode.valueOf(state.message()));
        return state.exitCode().map(code -> next.withField("exitCode", IntNode.valueOf(code))).orElse(next);
    }

    private static ResourceStatus withTime(ResourceStatus status, String field, Optional<Instant> at) {
        if (at.isEmpty() || status.field(field).isPresent()) return status;
        return status.withField(field, TextNode.valueOf(at.get().toString()));
    }

    /**
     * The attempt's workload, with the secrets and config maps the Job references read now. Their values reach the
     * backend's spec file of the workload, which only the server's user can read (0600); secret volumes are written
     * under {@code <workRoot>/.volumes/<workload id>} (0700, files 0600) and removed when the attempt ends.
     */
    private WorkloadSpec workload(Resource job, JobSpec spec, String workloadId) {
        var where = "Job " + job.metadata().namespace() + "/" + job.metadata().name() + ": ";
        var resolved = ConfigResolver.uses(job.spec(), job.spec().path("volumes"))
                ? configs.resolve(where, job.metadata().namespace(), job.spec(), job.spec().path("volumes"), new java.util.ArrayList<>())
                : ConfigResolver.Resolved.NONE;
        var rewrite = resolved.writeMounts(volumesDir(workloadId));
        var env = new java.util.HashMap<String, String>(resolved.env());
        env.putAll(spec.env());
        env = new java.util.HashMap<>(rewrite.applyToEnv(env));
        env.put("CAPSTAN_JOB_NAME", job.metadata().name());
        env.put("CAPSTAN_JOB_NAMESPACE", job.metadata().namespace());
        env.put("CAPSTAN_JOB_UID", job.metadata().uid());
        var workingDir = spec.workingDir().map(Path::of).orElseGet(() -> defaultWorkingDir(job));
        var command = spec.command().stream().map(rewrite::apply).toList();
        // With an image: the job's folder at its own path, its secret and config-map files where the rewritten command
        // and env name them, and a batch/v1 container's workingDir as a folder of the image.
        var execution = ContainerOptions.Execution.parse(job.metadata().annotations().get(ContainerOptions.EXECUTION_ANNOTATION),
                "metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        var mounts = java.nio.file.Files.isDirectory(volumesDir(workloadId))
                ? List.of(ContainerOptions.Mount.samePath(volumesDir(workloadId))) : List.<ContainerOptions.Mount>of();
        var container = new ContainerOptions(execution, spec.pullPolicy(), mounts, spec.imageWorkingDir());
        return new WorkloadSpec(workloadId, command, env, Optional.of(workingDir), spec.resources(), spec.timeout(), spec.priority(),
                spec.image(), container).withNamespace(job.metadata().namespace());
    }

    private Path volumesDir(String workloadId) {
        return workRoot.resolve(".volumes").resolve(workloadId);
    }

    private void removeVolumes(String workloadId) {
        ConfigResolver.deleteMounts(volumesDir(workloadId));
    }

    private Path defaultWorkingDir(Resource job) {
        var dir = workRoot.resolve(job.metadata().namespace()).resolve(job.metadata().name());
        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new io.capstan.core.TransientException("cannot create working folder " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /** Cancels the workloads of Jobs deleted while no replica led, such as those re-adopted after a restart. */
    @Override
    public void sweep() {
        backend.reapOrphans(Jobs::ownerOf, () -> store.uids(Jobs.KIND));
    }

    /** Cancels workloads whose Job was deleted; called when a reconcile finds its Job gone. */
    private void cancelOrphans() {
        backend.reapOrphans(Jobs::ownerOf, store.uids(Jobs.KIND));
    }
}
