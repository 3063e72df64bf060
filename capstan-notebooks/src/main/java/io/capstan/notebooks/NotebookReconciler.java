package io.capstan.notebooks;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadState;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Optional;

/**
 * Keeps each Notebook's server running, or stopped while the {@code kubeflow-resource-stopped} annotation is set, and
 * mirrors it into status: phase, {@code readyReplicas}, {@code url}, {@code lastActivity}, and the conditions
 * {@code Ready} and {@code Culled}.
 *
 * <p>Durable before acting: the attempt's workload id and port are written to status before the server is launched,
 * and launch is idempotent on that id; after a {@code kill -9} the backend re-adopts the live server and this
 * reconciler finds it by the id in status. A server that exits is started again after a back-off, as a StatefulSet's
 * Pod would be; a changed spec starts a new server.
 *
 * <p>Idle notebooks are culled as Kubeflow's culler does ({@link IdleCuller}).
 */
final class NotebookReconciler implements NotebookController {
    static final Duration POLL = Duration.ofMillis(250);
    static final Duration MAX_RESTART_DELAY = Duration.ofMinutes(5);

    private final ResourceStore store;
    private final Backend backend;
    private final NotebookLaunch launch;
    private final ServerProbes probes;
    private final ServerTokens tokens;
    private final IdleCuller culler;
    private final Clock clock;

    NotebookReconciler(ResourceStore store, Backend backend, NotebookLaunch launch, ServerProbes probes, ServerTokens tokens,
                       NotebookSettings settings, Clock clock) {
        this.store = store;
        this.backend = backend;
        this.launch = launch;
        this.probes = probes;
        this.tokens = tokens;
        this.culler = new IdleCuller(store, probes.jupyter(), settings);
        this.clock = clock;
    }

    @Override
    public String kind() {
        return Notebooks.KIND;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            backend.reapOrphans(Notebooks::ownerOf, store.uids(Notebooks.KIND));
            tokens.retainOnly(() -> store.uids(Notebooks.KIND));
            return Result.done();
        }
        var notebook = found.get();
        var workloadId = status(notebook, "workloadId");
        var state = workloadId.flatMap(backend::find);
        NotebookSpec spec;
        try {
            spec = NotebookSpec.of(notebook.spec());
            ServerType type = ServerType.of(notebook.metadata().annotations());
            Upstream.target(notebook.metadata().annotations(), type, NotebookLaunch.basePath(key.namespace(), key.name()));
            var unsupported = launch.unsupported(notebook, spec, type);
            if (unsupported.isPresent()) return fail(notebook, state, "Unsupported", unsupported.get());
        } catch (InvalidSpecException e) {
            return fail(notebook, state, "InvalidSpec", e.getMessage());
        }
        if (notebook.metadata().annotations().containsKey(Notebooks.STOPPED_ANNOTATION)) return stop(notebook, state);
        if (workloadId.isEmpty()) return startAttempt(notebook, spec);
        if (state.isEmpty()) {
            // Status names the attempt but the launch never happened (or its record is gone): launch is idempotent.
            backend.launch(launch.workload(notebook, spec, workloadId.get(), port(notebook)));
            return Result.requeueAfter(POLL);
        }
        long launched = notebook.status().field("launchedGeneration").map(n -> n.asLong()).orElse(0L);
        if (launched != notebook.metadata().generation()) {
            // A changed spec: the old server goes, as a StatefulSet replaces its Pod.
            end(state.get());
            return startAttempt(notebook, spec);
        }
        if (state.get().phase().isTerminal()) return restartLater(notebook, spec, state.get());
        return observe(notebook, state.get());
    }

    /** Stops the servers of notebooks deleted while no replica led (their re-adopted servers, after a restart). */
    @Override
    public void sweep() {
        backend.reapOrphans(Notebooks::ownerOf, () -> store.uids(Notebooks.KIND));
        tokens.retainOnly(() -> store.uids(Notebooks.KIND));
    }

    private Result startAttempt(Resource notebook, NotebookSpec spec) {
        var ns = notebook.metadata().namespace();
        var never = backend.neverFitsQuota(ns, spec.resources(), 1, "Notebook " + ns + "/" + notebook.metadata().name());
        if (never.isPresent()) return fail(notebook, Optional.empty(), QuotaCondition.EXCEEDED, never.get());
        int attempt = notebook.status().field("attempt").map(n -> n.asInt()).orElse(0) + 1;
        var id = Notebooks.workloadId(notebook.metadata().uid(), attempt);
        int port = NotebookLaunch.freePort();
        var now = clock.instant();
        var next = notebook.status().withPhase(NotebookPhase.PENDING.wireName())
                .withObservedGeneration(notebook.metadata().generation())
                .withField("attempt", IntNode.valueOf(attempt))
                .withField("workloadId", TextNode.valueOf(id))
                .withField("port", IntNode.valueOf(port))
                .withField("launchedGeneration", com.fasterxml.jackson.databind.node.LongNode.valueOf(notebook.metadata().generation()))
                .withField("url", TextNode.valueOf(NotebookLaunch.basePath(notebook.metadata().namespace(), notebook.metadata().name())))
                .withField("workspace", TextNode.valueOf(launch.workspace(notebook, spec).toString()))
                .withField("readyReplicas", IntNode.valueOf(0))
                .withField("restartAt", TextNode.valueOf(""))
                .withField("warnings", com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode().addAll(
                        spec.ignored().stream().map(TextNode::valueOf).toList()))
                .withField("startTime", TextNode.valueOf(now.toString()))
                .withCondition("Ready", false, "Starting", "starting the notebook server", now);
        if (notebook.status().condition("Culled").filter(c -> c.status() == io.capstan.core.Condition.Status.True).isPresent()) {
            next = next.withCondition("Culled", false, "Started", "started again after it was culled", now);
        }
        var written = store.updateStatus(notebook, next);
        backend.launch(launch.workload(written, spec, id, port));
        return Result.requeueAfter(POLL);
    }

    private Result observe(Resource notebook, WorkloadState state) {
        var now = clock.instant();
        var status = notebook.status().withObservedGeneration(notebook.metadata().generation());
        if (state.phase() != WorkloadPhase.QUEUED) status = QuotaCondition.cleared(status, now);
        if (state.phase() == WorkloadPhase.QUEUED) {
            var why = state.quotaWait().orElse("waiting for CPU, memory or GPUs to free up");
            status = status.withPhase(NotebookPhase.PENDING.wireName()).withCondition("Ready", false,
                    state.quotaWait().isPresent() ? QuotaCondition.EXCEEDED : "Queued", why, now);
            if (state.quotaWait().isPresent()) status = QuotaCondition.waiting(status, why, now);
            write(notebook, status);
            return Result.requeueAfter(POLL);
        }
        var upstream = upstream(notebook);
        var answer = upstream.flatMap(probes::status);
        if (answer.isEmpty()) {
            var tolerated = MissedProbes.tolerated(status);
            if (tolerated.isPresent()) {
                write(notebook, tolerated.get());
                return Result.requeueAfter(POLL);
            }
            status = MissedProbes.answered(status).withPhase(NotebookPhase.PENDING.wireName()).withField("readyReplicas", IntNode.valueOf(0))
                    .withCondition("Ready", false, "Starting", "the notebook server does not answer yet", now);
            write(notebook, status);
            return Result.requeueAfter(POLL);
        }
        status = MissedProbes.answered(status).withPhase(NotebookPhase.RUNNING.wireName()).withField("readyReplicas", IntNode.valueOf(1))
                .withCondition("Ready", true, "Running", "the notebook server answers", now);
        if (status.field("readyTime").filter(n -> !n.asText().isEmpty()).isEmpty()) status = status.withField("readyTime", TextNode.valueOf(now.toString()));
        var lastActivity = culler.lastActivity(upstream.get(), answer.get(), now);
        // Not idle for longer than it has run (code-server's heartbeat is 0 until its first request).
        var started = status(notebook, "startTime").map(Instant::parse);
        if (started.isPresent() && started.get().isAfter(lastActivity)) lastActivity = started.get();
        status = status.withField("lastActivity", TextNode.valueOf(lastActivity.toString()));
        if (culler.idle(lastActivity, now)) {
            var written = culler.cull(notebook, status, lastActivity, now);
            return stop(written, status(written, "workloadId").flatMap(backend::find));
        }
        write(notebook, status);
        return Result.requeueAfter(culler.nextCheck(lastActivity, now));
    }

    private Result stop(Resource notebook, Optional<WorkloadState> state) {
        state.ifPresent(this::end);
        var now = clock.instant();
        var status = notebook.status().withObservedGeneration(notebook.metadata().generation())
                .withPhase(NotebookPhase.STOPPED.wireName())
                .withField("workloadId", TextNode.valueOf(""))
                .withField("readyReplicas", IntNode.valueOf(0))
                .withCondition("Ready", false, "Stopped", "stopped by the annotation " + Notebooks.STOPPED_ANNOTATION, now);
        write(notebook, status);
        return Result.done();
    }

    /** A server that exited comes back after a back-off that doubles with each restart, as a crash-looping Pod does. */
    private Result restartLater(Resource notebook, NotebookSpec spec, WorkloadState state) {
        var now = clock.instant();
        var restartAt = status(notebook, "restartAt").map(Instant::parse);
        if (restartAt.isPresent() && !now.isBefore(restartAt.get())) {
            end(state);
            return startAttempt(notebook, spec);
        }
        if (restartAt.isPresent()) return Result.requeueAfter(Duration.between(now, restartAt.get()));
        int restarts = notebook.status().field("restartCount").map(n -> n.asInt()).orElse(0);
        var delay = min(MAX_RESTART_DELAY, Duration.ofSeconds(1L << Math.min(restarts, 9)));
        var tail = backend.tail(state.id(), 5).stream().map(io.capstan.backend.LogLine::text).toList();
        var message = "the notebook server " + state.message() + (tail.isEmpty() ? "" : "; last output: " + String.join(" | ", tail))
                + "; restarting in " + delay;
        var status = notebook.status().withPhase(NotebookPhase.PENDING.wireName())
                .withField("readyReplicas", IntNode.valueOf(0))
                .withField("restartCount", IntNode.valueOf(restarts + 1))
                .withField("restartAt", TextNode.valueOf(now.plus(delay).toString()))
                .withCondition("Ready", false, "CrashLoopBackOff", message, now);
        write(notebook, status);
        return Result.requeueAfter(delay);
    }

    private Result fail(Resource notebook, Optional<WorkloadState> state, String reason, String message) {
        state.ifPresent(this::end);
        var now = clock.instant();
        var status = notebook.status().withObservedGeneration(notebook.metadata().generation())
                .withPhase(NotebookPhase.FAILED.wireName())
                .withField("workloadId", TextNode.valueOf(""))
                .withField("readyReplicas", IntNode.valueOf(0))
                .withCondition("Ready", false, reason, message, now);
        write(notebook, status);
        return Result.done();
    }

    /** Stops the server's workload, if it runs, and forgets it; the workspace stays. */
    private void end(WorkloadState state) {
        if (!state.phase().isTerminal()) backend.cancel(state.id());
        backend.remove(state.id());
    }

    @Override
    public Optional<Upstream> upstream(Resource notebook) {
        if (status(notebook, "workloadId").isEmpty()) return Optional.empty();
        int port = port(notebook);
        if (port <= 0) return Optional.empty();
        var type = ServerType.of(notebook.metadata().annotations());
        var base = NotebookLaunch.basePath(notebook.metadata().namespace(), notebook.metadata().name());
        var target = Upstream.target(notebook.metadata().annotations(), type, base);
        // code-server takes no token: it listens on 127.0.0.1 only, behind this proxy's authentication.
        return tokens.find(notebook.metadata().uid()).map(token -> new Upstream(port, base, target,
                type == ServerType.VSCODE ? "" : token, type));
    }

    private void write(Resource notebook, ResourceStatus status) {
        if (!status.equals(notebook.status())) store.updateStatus(notebook, status);
    }

    private static int port(Resource notebook) {
        return notebook.status().field("port").map(n -> n.asInt()).orElse(0);
    }

    private static Optional<String> status(Resource notebook, String field) {
        return notebook.status().field(field).map(n -> n.asText()).filter(s -> !s.isEmpty());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }
}
