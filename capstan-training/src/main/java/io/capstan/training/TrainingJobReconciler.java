package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadState;
import io.capstan.core.Condition;
import io.capstan.core.ConfigResolver;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.core.TransientException;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.Reconciler;
import io.capstan.training.JobPlan.CleanPodPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reconciles one training job kind. Durable before acting: the attempt, its port and its workload ids are written
 * to status before any workload is launched, and launch is idempotent on those ids, so after a crash the same
 * gang is relaunched or re-adopted, never a second one. A lost or failed rank restarts the whole gang, up to
 * {@code backoffLimit}; a job never stays Running without live workloads.
 */
final class TrainingJobReconciler implements Reconciler {
    static final Duration POLL = Duration.ofMillis(500);
    private static final Duration TRACKER_GRACE = Duration.ofSeconds(5);
    private static final Duration TRACKER_POLL = Duration.ofMillis(100);
    static final Duration WAIT_FOR_RESOURCES = Duration.ofSeconds(2);
    static final Duration UNSCHEDULABLE_RETRY = Duration.ofSeconds(15);

    private final String kind;
    private final TrainingController c;

    TrainingJobReconciler(String kind, TrainingController controller) {
        this.kind = kind;
        this.c = controller;
    }

    @Override
    public String kind() {
        return kind;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = c.store().find(key);
        if (found.isEmpty()) {
            reapOrphans();
            return Result.done();
        }
        var job = found.get();
        c.remember(job.metadata().uid(), key);
        var phase = JobPhase.of(job.status().phase());
        if (phase.isTerminal()) return afterFinish(job);

        JobPlan plan;
        try {
            plan = plan(job);
        } catch (InvalidSpecException e) {
            return fail(job, List.of(), "InvalidSpec", e.getMessage(), Map.of());
        }
        if (plan.refusal().isPresent()) return fail(job, List.of(), "Unsupported", plan.refusal().get(), Map.of());
        try {
            plan = withSecrets(job, plan);
        } catch (ConfigResolver.ConfigReferenceException e) {
            return fail(job, List.of(), "CreateContainerConfigError", e.getMessage(), Map.of());
        }

        int attempt = job.status().field("attempt").map(JsonNode::asInt).orElse(0);
        int restarts = job.status().field("restarts").map(JsonNode::asInt).orElse(0);
        if (plan.runPolicy().suspend()) return suspend(job, plan);
        // Every rank finds the job's span in TRACEPARENT.
        plan = c.spans().traced(job, plan);
        if (attempt == 0 || phase == JobPhase.Suspended) return admit(job, plan, attempt + 1, restarts, phase == JobPhase.Suspended ? "Resumed" : "");

        int port = job.status().field("port").map(JsonNode::asInt).orElse(0);
        var gang = Gang.of(job, plan, attempt, port, Gang.Dirs.under(c.jobDir(job)));
        var states = observe(gang);
        var now = c.clock().instant();

        var started = job.status().field("startTime").map(n -> Instant.parse(n.asText()));
        if (plan.runPolicy().activeDeadline().isPresent() && started.isPresent()
                && !now.isBefore(started.get().plus(plan.runPolicy().activeDeadline().get()))) {
            var stopped = cancel(gang, states, CleanPodPolicy.All);
            return fail(job, gang.members(), "DeadlineExceeded", "the job ran longer than activeDeadlineSeconds ("
                    + plan.runPolicy().activeDeadline().get().toSeconds() + " s) and was stopped", stopped);
        }

        var failedMember = gang.members().stream().filter(m -> isFailure(states.get(m.spec().id()))).findFirst();
        if (failedMember.isPresent()) {
            var m = failedMember.get();
            var why = describe(m) + " " + states.get(m.spec().id()).message();
            if (restarts < plan.runPolicy().backoffLimit()) {
                cancel(gang, states, CleanPodPolicy.All);
                var restarted = job.withStatus(job.status()
                        .withField("replicaStatuses", replicaStatuses(gang, states))
                        .withCondition("Restarting", true, reason("Restarting"), why + "; restarting the whole job (restart "
                                + (restarts + 1) + " of " + plan.runPolicy().backoffLimit() + ")", now)
                        .withCondition("Running", false, reason("Restarting"), why, now));
                return admit(restarted, plan, attempt + 1, restarts + 1, "");
            }
            var stopped = cancel(gang, states, plan.runPolicy().cleanPodPolicy());
            var reason = plan.runPolicy().backoffLimit() > 0 ? "BackoffLimitExceeded" : reason("Failed");
            var suffix = plan.runPolicy().backoffLimit() > 0 ? "; backoffLimit " + plan.runPolicy().backoffLimit() + " reached" : "";
            return fail(job, gang.members(), reason, why + suffix, stopped);
        }

        if (succeeded(plan, gang, states) && trackerMayStillFinish(gang, states, now)) return Result.requeueAfter(TRACKER_POLL);
        if (succeeded(plan, gang, states)) {
            var stopped = cancel(gang, states, plan.runPolicy().cleanPodPolicy());
            var model = c.lineage().recordModel(job, Gang.Dirs.under(c.jobDir(job)).model());
            var next = finished(job.status(), now).withPhase(JobPhase.Succeeded.name())
                    .withField("replicaStatuses", replicaStatuses(gang, stopped))
                    .withField("admitted", BooleanNode.FALSE)
                    .withCondition("Running", false, reason("Succeeded"), "", now)
                    .withCondition(settled(job.status(), reason("Succeeded"), now))
                    .withCondition("Succeeded", true, reason("Succeeded"), kind + " " + job.metadata().name() + " successfully completed.", now);
            if (model.isPresent()) next = next.withField("modelUri", TextNode.valueOf(model.get()));
            write(job, next);
            return Result.done();
        }

        boolean allRunning = gang.members().stream().map(m -> states.get(m.spec().id()).phase())
                .allMatch(p -> p == WorkloadPhase.RUNNING || p == WorkloadPhase.SUCCEEDED);
        var status = job.status().withField("replicaStatuses", replicaStatuses(gang, states));
        if (allRunning) {
            status = status.withPhase(JobPhase.Running.name())
                    .withCondition("Running", true, reason("Running"), kind + " " + job.metadata().name() + " is running.", now)
                    .withCondition(settled(status, reason("Running"), now));
        } else {
            var quotaWait = states.values().stream().flatMap(st -> st.quotaWait().stream()).findFirst();
            status = quotaWait.isPresent()
                    ? QuotaCondition.waiting(status.withCondition("Running", false, QuotaCondition.EXCEEDED, quotaWait.get(), now), quotaWait.get(), now)
                    : status.withCondition("Running", false, "WaitingForResources",
                            "some ranks are queued by the backend until CPUs, memory or GPUs free up", now);
        }
        if (allRunning || !status.condition("Running").map(r -> r.reason().equals(QuotaCondition.EXCEEDED)).orElse(false)) {
            status = QuotaCondition.cleared(status, now);
        }
        write(job, status);
        return Result.requeueAfter(POLL);
    }

    /**
     * The plan with the Secret and ConfigMap values its containers reference, read now; they reach the workloads'
     * spec files, which only the server's user can read (0600).
     */
    private JobPlan withSecrets(Resource job, JobPlan plan) {
        var where = job.kind() + " " + job.metadata().namespace() + "/" + job.metadata().name() + ": ";
        var index = new java.util.concurrent.atomic.AtomicInteger();
        return plan.withContainers(container -> {
            var refs = container.configRefs();
            var dir = volumesDir(job).resolve(Integer.toString(index.getAndIncrement()));
            if (!ConfigResolver.uses(refs, refs.path("volumes"))) return container;
            var resolved = c.configs().resolve(where, job.metadata().namespace(), refs, refs.path("volumes"), new java.util.ArrayList<>());
            // Written once per job, before its first start; every process of the job reads the same files.
            var mounts = resolved.mounts().isEmpty() || Files.isDirectory(dir) ? resolved.mountsAt(dir) : resolved.writeMounts(dir);
            return container.withConfig(resolved.env(), mounts);
        });
    }

    /** Where a job's secret and config-map volumes are written (0700, files 0600) until it finishes. */
    private java.nio.file.Path volumesDir(Resource job) {
        return c.jobDir(job).resolve(".volumes");
    }

    private JobPlan plan(Resource job) {
        var problems = new Problems();
        JobPlan plan;
        if (kind.equals(TrainingKinds.TRAIN_JOB.kind())) {
            var ref = TrainJobs.runtimeRef(job.spec(), problems);
            problems.throwIfAny();
            var runtime = c.runtimes().find(job.metadata().namespace(), ref.orElseThrow());
            if (runtime.isEmpty()) {
                throw InvalidSpecException.of("spec.runtimeRef.name", "no " + ref.get().kind() + " named '" + ref.get().name() + "' in namespace "
                        + job.metadata().namespace() + "; built-in runtimes are " + String.join(", ", BuiltInRuntimes.NAMES));
            }
            plan = TrainJobs.plan(job.spec(), runtime.get().spec(), problems);
        } else {
            plan = V1Jobs.plan(V1Jobs.Kind.of(kind).orElseThrow(), job.spec(), problems);
        }
        problems.throwIfAny();
        return plan;
    }

    /** Admits the whole gang or none of it; records the attempt before launching anything. */
    private Result admit(Resource job, JobPlan plan, int attempt, int restarts, String resumeReason) {
        var now = c.clock().instant();
        var dirs = Gang.Dirs.under(c.jobDir(job));
        var planned = Gang.of(job, plan, attempt, 0, dirs);
        var demand = planned.total();
        var base = job.status().withObservedGeneration(job.metadata().generation())
                .withCondition("Created", true, reason("Created"), kind + " " + job.metadata().name() + " is created.", now);
        if (!plan.warnings().isEmpty()) base = base.withField("warnings", Json.json().valueToTree(plan.warnings()));
        if (base.phase().isEmpty()) base = base.withPhase(JobPhase.Created.name());
        int ranks = planned.ranks().size();
        var overQuota = c.backend().neverFitsQuota(job.metadata().namespace(), demand, ranks,
                "%s %s (%d ranks)".formatted(kind, job.metadata().name(), ranks));
        if (overQuota.isPresent()) return fail(job, List.of(), QuotaCondition.EXCEEDED, overQuota.get(), Map.of());
        var never = c.capacity().neverFits(demand);
        if (never.isPresent()) {
            write(job, base.withCondition("Running", false, "Unschedulable", never.get(), now));
            return Result.requeueAfter(UNSCHEDULABLE_RETRY);
        }
        try {
            Initializers.fetch(c, plan, dirs);
        } catch (InvalidSpecException | PermanentFailureException e) {
            return fail(job, List.of(), "InitializerFailed", e.getMessage(), Map.of());
        }
        c.admission().lock();
        try {
            var held = heldByOthers(job);
            if (!c.capacity().fits(demand, held)) {
                write(job, base.withCondition("Running", false, "WaitingForResources", "the job needs %s CPUs, %d bytes and %d GPUs together; other training jobs hold %s CPUs, %d bytes and %d GPUs of this machine's %s, %d and %d"
                        .formatted(demand.cpus(), demand.memoryBytes(), demand.gpuCount(), held.cpus(), held.memoryBytes(), held.gpuCount(),
                                c.capacity().cpus(), c.capacity().memoryBytes(), c.capacity().gpuCount()), now));
                return Result.requeueAfter(WAIT_FOR_RESOURCES);
            }
            createDirs(dirs);
            int port = freePort();
            var gang = Gang.of(job, plan, attempt, port, dirs);
            var next = base.withField("attempt", IntNode.valueOf(attempt))
                    .withField("restarts", IntNode.valueOf(restarts))
                    .withField("port", IntNode.valueOf(port))
                    .withField("admitted", BooleanNode.TRUE)
                    .withField("gangRequests", requests(demand))
                    .withField("workloads", workloads(gang))
                    .withField("replicaStatuses", replicaStatuses(gang, Map.of()));
            if (attempt == 1 || !resumeReason.isEmpty()) next = next.withField("startTime", TextNode.valueOf(now.toString()));
            if (!resumeReason.isEmpty()) {
                next = next.withCondition("Suspended", false, reason("Resumed"), kind + " " + job.metadata().name() + " is resumed.", now);
            }
            if (restarts > job.status().field("restarts").map(JsonNode::asInt).orElse(0)) {
                next = next.withPhase(JobPhase.Restarting.name());
            } else if (!resumeReason.isEmpty()) {
                next = next.withPhase(JobPhase.Created.name());
            }
            next = next.withCondition("Running", false, reason("Created"), "launching attempt " + attempt + ": " + gang.ranks().size() + " ranks", now);
            var recorded = c.store().updateStatus(job.key(), job.metadata().resourceVersion(), next);
            try {
                for (var m : gang.members()) c.backend().launch(m.spec());
            } catch (InvalidSpecException e) {
                // A backend that cannot run this shape (a Kubernetes backend, say) refuses it for good: retrying cannot help.
                cancel(gang, observeWithoutLaunch(gang), CleanPodPolicy.All);
                return fail(recorded, List.of(), "InvalidSpec", e.getMessage(), Map.of());
            }
        } finally {
            c.admission().unlock();
        }
        return Result.requeueAfter(POLL);
    }

    private Result suspend(Resource job, JobPlan plan) {
        var now = c.clock().instant();
        int attempt = job.status().field("attempt").map(JsonNode::asInt).orElse(0);
        if (attempt > 0) {
            int port = job.status().field("port").map(JsonNode::asInt).orElse(0);
            var gang = Gang.of(job, plan, attempt, port, Gang.Dirs.under(c.jobDir(job)));
            cancel(gang, observeWithoutLaunch(gang), CleanPodPolicy.All);
        }
        var next = job.status().withObservedGeneration(job.metadata().generation()).withPhase(JobPhase.Suspended.name())
                .withField("admitted", BooleanNode.FALSE)
                .withCondition("Created", true, reason("Created"), kind + " " + job.metadata().name() + " is created.", now)
                .withCondition("Running", false, reason("Suspended"), kind + " " + job.metadata().name() + " is suspended.", now)
                .withCondition("Suspended", true, reason("Suspended"), kind + " " + job.metadata().name() + " is suspended.", now);
        write(job, next);
        return Result.done();
    }

    private Result fail(Resource job, List<Gang.Member> members, String reason, String message, Map<String, WorkloadState> states) {
        var now = c.clock().instant();
        var next = finished(job.status(), now).withObservedGeneration(job.metadata().generation()).withPhase(JobPhase.Failed.name())
                .withField("admitted", BooleanNode.FALSE)
                .withCondition("Running", false, reason, "", now)
                .withCondition(settled(job.status(), reason, now))
                .withCondition("Failed", true, reason, message, now);
        if (!members.isEmpty()) next = next.withField("replicaStatuses", replicaStatuses(new Gang(members), states));
        write(job, next);
        return Result.done();
    }

    /** Finished jobs: deleted once ttlSecondsAfterFinished has passed, else left alone. */
    private Result afterFinish(Resource job) {
        ConfigResolver.deleteMounts(volumesDir(job));
        Optional<Duration> ttl;
        try {
            ttl = plan(job).runPolicy().ttlAfterFinished();
        } catch (InvalidSpecException e) {
            return Result.done();
        }
        var completed = job.status().field("completionTime").map(n -> Instant.parse(n.asText()));
        if (ttl.isEmpty() || completed.isEmpty()) return Result.done();
        var expires = completed.get().plus(ttl.get());
        var now = c.clock().instant();
        if (now.isBefore(expires)) return Result.requeueAfter(Duration.between(now, expires));
        c.store().delete(job.key());
        c.forget(job.metadata().uid());
        reapOrphans();
        return Result.done();
    }

    private Map<String, WorkloadState> observe(Gang gang) {
        var states = new LinkedHashMap<String, WorkloadState>();
        for (var m : gang.members()) {
            var id = m.spec().id();
            var state = c.backend().find(id);
            if (state.isEmpty()) {
                // Recorded but never launched (a crash between the two), or its record vanished: launch is idempotent.
                try {
                    state = Optional.of(c.backend().launch(m.spec()));
                } catch (ConflictException e) {
                    state = Optional.of(new WorkloadState(id, WorkloadPhase.LOST, Optional.empty(), e.getMessage(), Optional.empty(), Optional.empty(), List.of()));
                }
            }
            states.put(id, state.get());
        }
        return states;
    }

    private Map<String, WorkloadState> observeWithoutLaunch(Gang gang) {
        var states = new LinkedHashMap<String, WorkloadState>();
        for (var m : gang.members()) c.backend().find(m.spec().id()).ifPresent(s -> states.put(m.spec().id(), s));
        return states;
    }

    /**
     * Stops workloads as {@code policy} says: All and Running stop everything still active; None stops nothing.
     * Returns the states after that, so that the replica counts written next show the stopped ranks as stopped.
     */
    private Map<String, WorkloadState> cancel(Gang gang, Map<String, WorkloadState> states, CleanPodPolicy policy) {
        if (policy == CleanPodPolicy.None) return states;
        var after = new LinkedHashMap<>(states);
        for (var m : gang.members()) {
            var s = states.get(m.spec().id());
            if (s != null && !s.phase().isTerminal()) after.put(m.spec().id(), c.backend().cancel(m.spec().id()));
        }
        return after;
    }

    private static boolean isFailure(WorkloadState s) {
        return s != null && (s.phase() == WorkloadPhase.FAILED || s.phase() == WorkloadPhase.LOST || s.phase() == WorkloadPhase.CANCELLED);
    }

    /**
     * An XGBoost tracker ends by itself once the workers have said goodbye, a moment after the last of them exits;
     * cleaning it up at once would cut off its last words. It gets {@link #TRACKER_GRACE} from the last rank's end.
     */
    private static boolean trackerMayStillFinish(Gang gang, Map<String, WorkloadState> states, Instant now) {
        var lastRankEnd = gang.ranks().stream().map(m -> states.get(m.spec().id()).finishedAt())
                .flatMap(Optional::stream).max(Instant::compareTo);
        return lastRankEnd.isPresent() && now.isBefore(lastRankEnd.get().plus(TRACKER_GRACE))
                && gang.members().stream().filter(Gang.Member::isTracker)
                        .anyMatch(m -> states.get(m.spec().id()) != null && !states.get(m.spec().id()).phase().isTerminal());
    }

    /** Kubeflow's rule: with a Master, the job succeeds when the Master does; otherwise when every rank does. */
    private static boolean succeeded(JobPlan plan, Gang gang, Map<String, WorkloadState> states) {
        var deciding = gang.ranks().stream()
                .filter(m -> !plan.hasMaster() || m.replicaType().equals(JobPlan.ReplicaGroup.MASTER)).toList();
        return !deciding.isEmpty() && deciding.stream().allMatch(m -> states.get(m.spec().id()).phase() == WorkloadPhase.SUCCEEDED);
    }

    private static String describe(Gang.Member m) {
        return m.isTracker() ? "the XGBoost tracker" : m.replicaType() + " " + m.index() + " (rank " + m.rank() + ")";
    }

    private ResourceRequest heldByOthers(Resource self) {
        double cpus = 0;
        long memory = 0;
        int gpus = 0;
        for (var k : TrainingKinds.JOB_KINDS) {
            Optional<String> token = Optional.empty();
            do {
                var page = c.store().list(new ListQuery(k.kind(), Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
                for (var r : page.items()) {
                    if (r.metadata().uid().equals(self.metadata().uid())) continue;
                    if (!r.status().field("admitted").map(JsonNode::asBoolean).orElse(false)) continue;
                    if (JobPhase.of(r.status().phase()).isTerminal()) continue;
                    var req = r.status().field("gangRequests");
                    if (req.isEmpty()) continue;
                    cpus += req.get().path("cpus").asDouble();
                    memory += req.get().path("memoryBytes").asLong();
                    gpus += req.get().path("gpus").asInt();
                }
                token = page.continueToken();
            } while (token.isPresent());
        }
        return new ResourceRequest(cpus, memory, gpus);
    }

    private void reapOrphans() {
        c.backend().reapOrphans(TrainingWorkloads::ownerUid, this::liveJobs);
    }

    /** Stops the ranks of jobs deleted while no replica led. */
    @Override
    public void sweep() {
        reapOrphans();
    }

    private java.util.Set<String> liveJobs() {
        var live = new HashSet<String>();
        for (var k : TrainingKinds.JOB_KINDS) live.addAll(c.store().uids(k.kind()));
        return live;
    }

    /** Restarting back to False, keeping the message of the last restart so that it stays visible afterwards. */
    private static Condition settled(ResourceStatus status, String reason, Instant now) {
        var message = status.condition("Restarting").map(Condition::message).orElse("");
        return Condition.isFalse("Restarting", reason, message, now);
    }

    private String reason(String what) {
        return kind + what;
    }

    private void write(Resource job, ResourceStatus next) {
        if (next.equals(job.status())) return;
        c.store().updateStatus(job.key(), job.metadata().resourceVersion(), next);
        c.spans().written(job, next);
    }

    private static ResourceStatus finished(ResourceStatus status, Instant now) {
        var cleared = QuotaCondition.cleared(status, now);
        return cleared.field("completionTime").isPresent() ? cleared : cleared.withField("completionTime", TextNode.valueOf(now.toString()));
    }

    private static ObjectNode requests(ResourceRequest r) {
        var node = Json.json().createObjectNode();
        node.put("cpus", r.cpus()).put("memoryBytes", r.memoryBytes()).put("gpus", r.gpuCount());
        return node;
    }

    private static JsonNode workloads(Gang gang) {
        var array = Json.json().createArrayNode();
        for (var m : gang.members()) {
            array.addObject().put("id", m.spec().id()).put("replicaType", m.replicaType()).put("index", m.index()).put("rank", m.rank());
        }
        return array;
    }

    /** Kubeflow's replicaStatuses: per replica type, how many ranks are active, succeeded and failed. */
    private static ObjectNode replicaStatuses(Gang gang, Map<String, WorkloadState> states) {
        var out = Json.json().createObjectNode();
        for (var m : gang.ranks()) {
            var node = out.has(m.replicaType()) ? (ObjectNode) out.get(m.replicaType())
                    : out.putObject(m.replicaType()).put("active", 0).put("succeeded", 0).put("failed", 0);
            var s = states.get(m.spec().id());
            // A rank Capstan stopped (cleanPodPolicy, a restart or a deadline) is gone, as a deleted pod is: not counted.
            if (s != null && s.phase() == WorkloadPhase.CANCELLED) continue;
            var field = s == null || !s.phase().isTerminal() ? "active" : s.phase() == WorkloadPhase.SUCCEEDED ? "succeeded" : "failed";
            node.put(field, node.get(field).asInt() + 1);
        }
        return out;
    }

    private static void createDirs(Gang.Dirs dirs) {
        try {
            Files.createDirectories(dirs.work());
            Files.createDirectories(dirs.model());
        } catch (IOException e) {
            throw new TransientException("cannot create the job folders under " + dirs.work().getParent() + ": " + e.getMessage(), e);
        }
    }

    /** A port free on loopback now; recorded in status before any rank binds it. */
    static int freePort() {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new TransientException("cannot find a free port on loopback: " + e.getMessage(), e);
        }
    }

    /** Values of status.phase, Kubeflow's condition types. */
    enum JobPhase {
        Created, Running, Restarting, Suspended, Succeeded, Failed;

        boolean isTerminal() {
            return this == Succeeded || this == Failed;
        }

        static JobPhase of(String phase) {
            for (var p : values()) if (p.name().equals(phase)) return p;
            return Created;
        }
    }
}
