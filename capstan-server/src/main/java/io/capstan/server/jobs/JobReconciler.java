package io.capstan.server.jobs;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.backend.ContainerOptions;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
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

    private final ResourceStore store;
    private final Backend backend;
    private final Path workRoot;
    private final Clock clock;

    public JobReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock) {
        this.store = store;
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
            backend.launch(workload(job, spec, workloadId.get()));
            return Result.requeueAfter(POLL);
        }
        return observe(job, spec, attempt, state.get());
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
        backend.launch(workload(job, spec, id));
        return Result.requeueAfter(POLL);
    }

    private Result observe(Resource job, JobSpec spec, int attempt, WorkloadState state) {
        var status = job.status().withObservedGeneration(job.metadata().generation());
        var now = clock.instant();
        ResourceStatus next;
        Result result;
        switch (state.phase()) {
            case QUEUED -> {
                next = status.withPhase(JobPhase.Pending.name())
                        .withCondition("Running", false, "Queued", "waiting for CPU, memory or GPUs to free up", now);
                result = Result.requeueAfter(POLL);
            }
            case RUNNING -> {
                next = withTime(status, "startTime", state.startedAt()).withPhase(JobPhase.Running.name())
                        .withCondition("Running", true, "Started", "", now);
                result = Result.requeueAfter(POLL);
            }
            case SUCCEEDED -> {
                next = finished(status, state).withPhase(JobPhase.Succeeded.name())
                        .withCondition("Running", false, "Completed", "", now)
                        .withCondition("Succeeded", true, "Completed", state.message(), now);
                result = Result.done();
            }
            case FAILED, CANCELLED, LOST -> {
                if (attempt <= spec.backoffLimit() && state.phase() != WorkloadPhase.CANCELLED) {
                    var retried = job.withStatus(finished(status, state)
                            .withField("message", TextNode.valueOf("attempt " + attempt + " failed: " + state.message() + "; retrying")));
                    return startAttempt(retried, spec, attempt + 1);
                }
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

    private WorkloadSpec workload(Resource job, JobSpec spec, String workloadId) {
        var env = new java.util.HashMap<>(spec.env());
        env.put("CAPSTAN_JOB_NAME", job.metadata().name());
        env.put("CAPSTAN_JOB_NAMESPACE", job.metadata().namespace());
        env.put("CAPSTAN_JOB_UID", job.metadata().uid());
        var workingDir = spec.workingDir().map(Path::of).orElseGet(() -> defaultWorkingDir(job));
        // With an image: the job's folder at its own path, and a batch/v1 container's workingDir as a folder of the image.
        var execution = ContainerOptions.Execution.parse(job.metadata().annotations().get(ContainerOptions.EXECUTION_ANNOTATION),
                "metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        var container = new ContainerOptions(execution, spec.pullPolicy(), List.of(), spec.imageWorkingDir());
        return new WorkloadSpec(workloadId, spec.command(), env, Optional.of(workingDir), spec.resources(), spec.timeout(), spec.priority(),
                spec.image(), container);
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

    /** Cancels workloads whose Job was deleted; called when a reconcile finds its Job gone. */
    private void cancelOrphans() {
        backend.reapOrphans(Jobs::ownerOf, store.uids(Jobs.KIND));
    }
}
