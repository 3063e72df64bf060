package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.Backend;
import io.capstan.backend.LogLine;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.TransientException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs workloads as Pods or batch/v1 Jobs (see {@link WorkloadObjects}) and watches them with informers. It only
 * creates, JSON-merge-patches and deletes, naming every child it deletes, so it behaves the same on a cluster without
 * garbage collection or server-side apply (such as fabric8's mock server).
 *
 * <p>What Capstan must keep after the pod is gone lives in {@code <stateDir>/<id>/}: {@code state.json} (the last
 * observed state, so that {@link #find} answers once the pod is deleted) and {@code pod.log} ({@link PodLog}: every
 * line streamed from the kubelet). After a restart, a new backend reloads those folders and adopts, by the
 * {@link CapstanLabels#MANAGED_BY} label, every Pod and Job it finds, including those of workloads whose folder it
 * never had (another replica launched them); workloads that were running and whose objects are gone become LOST.
 */
public final class KubernetesBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesBackend.class);
    private static final String POD = "Pod";
    private static final String JOB = "Job";
    /** How long a finished workload waits for the rest of its log before it is reported finished without it. */
    static final Duration LOG_DRAIN = Duration.ofSeconds(10);

    /**
     * @param client       the cluster; {@link KubeClients#create} builds one from a kubeconfig, a context or in-cluster
     * @param stateDir     where states and logs are kept
     * @param namespace    the namespace of workloads whose placement names none
     * @param watchAll     watch every namespace (needs cluster-wide list/watch); else only {@code namespace}
     * @param defaultImage the image of workloads that name none
     * @param logRetry     how long to wait before re-opening a log stream that ended while the pod still runs
     */
    public record Options(KubernetesClient client, Path stateDir, String namespace, boolean watchAll, Optional<String> defaultImage,
                          Clock clock, Duration logRetry, Duration gangTimeout, Duration gangRetry, Optional<String> kueueQueue) {
        public Options {
            Objects.requireNonNull(client, "client");
            Objects.requireNonNull(stateDir, "stateDir");
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(defaultImage, "defaultImage");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(logRetry, "logRetry");
            Objects.requireNonNull(gangTimeout, "gangTimeout");
            Objects.requireNonNull(gangRetry, "gangRetry");
            Objects.requireNonNull(kueueQueue, "kueueQueue");
            if (!CapstanLabels.isDnsLabel(namespace)) throw InvalidSpecException.of("namespace", "'" + namespace + "' is not a DNS-1123 label");
        }

        public static Options of(KubernetesClient client, Path stateDir, String namespace) {
            return new Options(client, stateDir, namespace, false, Optional.empty(), Clock.systemUTC(), Duration.ofSeconds(1),
                    DEFAULT_GANG_TIMEOUT, DEFAULT_GANG_RETRY, Optional.empty());
        }

        public Options watchingAllNamespaces() {
            return new Options(client, stateDir, namespace, true, defaultImage, clock, logRetry, gangTimeout, gangRetry, kueueQueue);
        }

        public Options withDefaultImage(String image) {
            return new Options(client, stateDir, namespace, watchAll, Optional.of(image), clock, logRetry, gangTimeout, gangRetry, kueueQueue);
        }

        public Options withClock(Clock c) {
            return new Options(client, stateDir, namespace, watchAll, defaultImage, c, logRetry, gangTimeout, gangRetry, kueueQueue);
        }

        public Options withLogRetry(Duration retry) {
            return new Options(client, stateDir, namespace, watchAll, defaultImage, clock, retry, gangTimeout, gangRetry, kueueQueue);
        }

        /**
         * A gang whose pods are not all scheduled {@code timeout} after they were created gives back what it holds (its
         * pods are deleted) and tries again {@code retry} later, so that two half-scheduled gangs never wait on each
         * other for ever.
         */
        public Options withGangTimeout(Duration timeout, Duration retry) {
            return new Options(client, stateDir, namespace, watchAll, defaultImage, clock, logRetry, timeout, retry, kueueQueue);
        }

        /**
         * Leaves gang admission to Kueue: a gang's pods carry {@code kueue.x-k8s.io/queue-name}, its pod-group name and
         * total count, so that Kueue admits the group whole; Capstan then never deletes a waiting gang itself.
         */
        public Options withKueueQueue(String queue) {
            if (!CapstanLabels.isDnsLabel(queue)) throw InvalidSpecException.of("kueueQueue", "'" + io.capstan.core.Names.printable(queue) + "' is not a DNS-1123 label");
            return new Options(client, stateDir, namespace, watchAll, defaultImage, clock, logRetry, gangTimeout, gangRetry, Optional.of(queue));
        }
    }

    /** As the scheduler-plugins coscheduling plugin's default scheduleTimeoutSeconds. */
    public static final Duration DEFAULT_GANG_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_GANG_RETRY = Duration.ofSeconds(30);
    static final String KUEUE_QUEUE = "kueue.x-k8s.io/queue-name";
    static final String KUEUE_POD_GROUP = "kueue.x-k8s.io/pod-group-name";
    static final String KUEUE_POD_GROUP_COUNT = "kueue.x-k8s.io/pod-group-total-count";

    /** One workload: where its objects are, what was last seen of them, and its log. */
    private static final class Tracked {
        final String id;
        final String namespace;
        final String kind;
        final String name;
        final String container;
        final Optional<String> service;
        final Path dir;
        final PodLog log;
        volatile WorkloadState state;
        /** What was seen before it finished, shown while the rest of its log is being copied (see {@link #visible}). */
        volatile WorkloadState beforeFinish;
        /** {@link System#nanoTime} when it was seen finished. */
        volatile long finishedSeen;
        volatile String logPod;
        volatile boolean logPodDone;
        volatile Integer exitCode;
        volatile boolean removed;
        Thread pump;
        /** The gang this workload belongs to and its size, from the spec or the adopted pod's label and annotation. */
        volatile String gang;
        volatile int gangSize;
        /** When its pod was (re)created, for the gang timeout. */
        volatile Instant podCreated;
        /** The pod deleted when its gang gave back what it held, to be created again at {@link #retryAt}. */
        volatile Pod released;
        volatile Instant retryAt;
        /** Its gang had all its pods scheduled once: from then on each member follows its own pod. */
        volatile boolean admitted;
        /** Its completion index in the Indexed Job {@link #name} that runs it and its siblings; -1 for a workload of its own. */
        volatile int index = -1;

        Tracked(String id, String namespace, String kind, String name, String container, Optional<String> service, Path dir, WorkloadState state, Clock clock) {
            this.id = id;
            this.namespace = namespace;
            this.kind = kind;
            this.name = name;
            this.container = container;
            this.service = service;
            this.dir = dir;
            this.state = state;
            this.log = new PodLog(dir.resolve("pod.log"), clock);
        }
    }

    private final Options options;
    private final KubernetesClient client;
    private final Object lock = new Object();
    private final ConcurrentHashMap<String, Tracked> workloads = new ConcurrentHashMap<>();
    private final SharedIndexInformer<Pod> pods;
    private final SharedIndexInformer<Job> jobs;
    private final Thread gangs;
    private volatile boolean closed;

    public KubernetesBackend(Options options) {
        this.options = options;
        this.client = options.client();
        try {
            Files.createDirectories(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + options.stateDir(), e);
        }
        load();
        var podOps = options.watchAll() ? client.pods().inAnyNamespace() : client.pods().inNamespace(options.namespace());
        var jobOps = options.watchAll() ? client.batch().v1().jobs().inAnyNamespace() : client.batch().v1().jobs().inNamespace(options.namespace());
        pods = podOps.withLabel(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE).inform(handler(this::onPod, this::onPodGone), 0);
        jobs = jobOps.withLabel(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE).inform(handler(this::onJob, this::onJobGone), 0);
        // Adopted from the first lists now, not when their add events are dispatched, so that a new backend (after a
        // restart or a failover) answers for every workload at once.
        for (var j : jobs.getIndexer().list()) onJob(j);
        for (var p : pods.getIndexer().list()) onPod(p);
        // inform() returns once the first list is in the caches: whatever is running and not there ended while we were away.
        for (var t : workloads.values()) {
            var pod = pods.getIndexer().list().stream().filter(p -> t.id.equals(workloadId(p))).findFirst();
            if (!t.state.phase().isTerminal() && t.released == null) {
                boolean present = t.kind.equals(JOB) ? jobs.getIndexer().getByKey(t.namespace + "/" + t.name) != null : pod.isPresent();
                if (!present) finish(t, WorkloadPhase.LOST, Optional.empty(), "its " + t.kind + " " + t.namespace + "/" + t.name + " vanished while Capstan was down");
            }
            // A pod that is still there may hold log lines that a crash kept us from copying: resume from the last one.
            pod.ifPresent(p -> notePod(t, p));
            startPump(t);
        }
        gangs = Thread.ofVirtual().name("capstan-k8s-gangs").start(this::watchGangs);
    }

    @Override
    public WorkloadState launch(WorkloadSpec spec) {
        return launch(spec, Placement.defaults());
    }

    /** Launches {@code spec} as {@code placement} says; idempotent on the workload id. */
    public WorkloadState launch(WorkloadSpec spec, Placement placement) {
        ensureOpen();
        if (options.kueueQueue().isPresent() && spec.gang().isPresent()) {
            var g = spec.gang().get();
            placement = placement.withLabels(java.util.Map.of(KUEUE_QUEUE, options.kueueQueue().get(), KUEUE_POD_GROUP, CapstanLabels.objectName(g.name())));
        }
        var objects = WorkloadObjects.of(spec, placement, options.namespace(), options.defaultImage());
        if (options.kueueQueue().isPresent() && spec.gang().isPresent()) {
            for (var o : objects) {
                if (o instanceof Pod p) p.getMetadata().getAnnotations().put(KUEUE_POD_GROUP_COUNT, Integer.toString(spec.gang().get().size()));
            }
        }
        var main = objects.getFirst();
        var ns = main.getMetadata().getNamespace();
        if (!options.watchAll() && !ns.equals(options.namespace())) {
            // Its pods would never reach the informers, and the workload would look queued for ever.
            throw InvalidSpecException.of("namespace", "workload '%s' would run in namespace '%s', but this backend watches only '%s'; start it watching all namespaces"
                    .formatted(io.capstan.core.Names.printable(spec.id()), ns, options.namespace()));
        }
        int index = placement.shape() instanceof Placement.Shape.Indexed ix ? ix.members().indexOf(spec.id()) : -1;
        Tracked t;
        synchronized (lock) {
            var known = workloads.get(spec.id());
            if (known != null) return known.state;
            t = new Tracked(spec.id(), main.getMetadata().getNamespace(), main.getKind(), main.getMetadata().getName(), placement.container(),
                    placement.headlessService(), dirOf(spec.id()),
                    new WorkloadState(spec.id(), WorkloadPhase.QUEUED, Optional.empty(),
                            "created " + main.getKind() + " " + main.getMetadata().getNamespace() + "/" + main.getMetadata().getName() + "; waiting for the scheduler",
                            Optional.empty(), Optional.empty(), List.of()), options.clock());
            spec.gang().ifPresent(g -> {
                t.gang = g.name();
                t.gangSize = g.size();
            });
            t.podCreated = options.clock().instant();
            t.index = index;
            createDir(t.dir);
            persist(t);
            workloads.put(t.id, t);
        }
        var created = new ArrayList<HasMetadata>();
        try {
            for (var o : objects) {
                // A member of an Indexed Job finds it created by a sibling; only what it created itself is its to undo.
                if (create(o, spec.id()) || index < 0) created.add(o);
            }
        } catch (RuntimeException e) {
            // Leave nothing behind that a later start would adopt as a workload nobody launched.
            for (var o : created) {
                try {
                    client.resource(o).delete();
                } catch (KubernetesClientException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            synchronized (lock) {
                workloads.remove(t.id);
            }
            deleteDir(t.dir);
            throw e;
        }
        // The informer may have seen the pod already; its state wins over the QUEUED we recorded.
        pods.getIndexer().list().stream().filter(p -> spec.id().equals(workloadId(p))).findFirst().ifPresent(this::onPod);
        startPump(t);
        return t.state;
    }

    /** Creates {@code o}; false when it was there already for workload {@code id} (or its Indexed Job). */
    private boolean create(HasMetadata o, String id) {
        try {
            client.resource(o).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) throw translate(e, "create " + o.getKind() + " " + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());
            // Already there: ours from a launch whose record was lost, or a sibling's (adopt it), or someone else's (refuse).
            var existing = client.resource(o).get();
            var ids = existing == null ? null : indexedIds(existing);
            if (existing == null || !(id.equals(annotation(existing)) || (ids != null && ids.contains(id)))) {
                throw new ConflictException("%s %s/%s already exists and is not workload '%s'; delete it or choose another name"
                        .formatted(o.getKind(), o.getMetadata().getNamespace(), o.getMetadata().getName(), id));
            }
            return false;
        }
    }

    @Override
    public Optional<WorkloadState> find(String workloadId) {
        return Optional.ofNullable(workloads.get(workloadId)).map(this::visible);
    }

    /**
     * A pod that succeeded or failed is reported so once its log is copied (for at most {@link #LOG_DRAIN}), as a
     * local process is once its output is read: whoever reads its log on seeing it finished (a trial's metrics on
     * stdout, a failure's last lines) finds all of it.
     */
    private WorkloadState visible(Tracked t) {
        var s = t.state;
        var before = t.beforeFinish;
        if (before == null || (s.phase() != WorkloadPhase.SUCCEEDED && s.phase() != WorkloadPhase.FAILED)) return s;
        if (t.log.isSealed() || t.removed || System.nanoTime() - t.finishedSeen > LOG_DRAIN.toNanos()) return s;
        return before;
    }

    @Override
    public WorkloadState cancel(String workloadId) {
        var t = entry(workloadId);
        // A finished workload is left as it is: its pod may still be serving the last lines of its log.
        if (t.state.phase().isTerminal()) return t.state;
        finish(t, WorkloadPhase.CANCELLED, Optional.empty(), "cancelled");
        // Deleting an Indexed Job stops every member: they are cancelled too, not lost.
        for (var sibling : siblings(t)) finish(sibling, WorkloadPhase.CANCELLED, Optional.empty(), "cancelled with " + t.id + ", which shares its Job");
        deleteChildren(t);
        return t.state;
    }

    /** Deletes the workload's Job or Pod, the Job's pods by label (no reliance on garbage collection) and its Service. */
    private void deleteChildren(Tracked t) {
        try {
            if (t.kind.equals(JOB)) client.batch().v1().jobs().inNamespace(t.namespace).withName(t.name).delete();
            else client.pods().inNamespace(t.namespace).withName(t.name).delete();
            client.pods().inNamespace(t.namespace).withLabel(CapstanLabels.WORKLOAD_ID, CapstanLabels.label(t.id)).delete();
            if (t.index >= 0) client.pods().inNamespace(t.namespace).withLabel(CapstanLabels.INDEXED_JOB, t.name).delete();
            t.service.ifPresent(s -> client.services().inNamespace(t.namespace).withName(s).delete());
        } catch (KubernetesClientException e) {
            throw translate(e, "delete the objects of workload " + t.id);
        }
    }

    @Override
    public List<LogLine> tail(String workloadId, int maxLines) {
        return entry(workloadId).log.tail(maxLines);
    }

    @Override
    public List<LogLine> follow(String workloadId, long fromLine, Duration wait) {
        if (fromLine < 0) throw InvalidSpecException.of("fromLine", "fromLine must be >= 0, got " + fromLine);
        var log = entry(workloadId).log;
        try {
            log.awaitMoreThan(fromLine, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
        return log.read(fromLine, 1000);
    }

    @Override
    public void remove(String workloadId) {
        var t = entry(workloadId);
        if (!t.state.phase().isTerminal()) {
            throw new ConflictException("workload '%s' is %s; cancel it before removing it".formatted(workloadId, t.state.phase()));
        }
        deleteChildren(t);
        // Under the lock that every state write takes, so none lands in the folder after this; the sealed log
        // takes no more lines either.
        synchronized (lock) {
            t.removed = true;
            workloads.remove(workloadId);
        }
        t.log.seal();
        var pump = t.pump;
        if (pump != null) pump.interrupt();
        deleteDir(t.dir);
    }

    @Override
    public List<WorkloadState> list() {
        return workloads.values().stream().map(this::visible).sorted(Comparator.comparing(WorkloadState::id)).toList();
    }

    /** Stops watching; the pods keep running for the next backend to adopt. */
    /** The client it works through, for objects placed beside its workloads (InferenceService predictors). */
    KubernetesClient client() {
        return client;
    }

    @Override
    public void close() {
        closed = true;
        gangs.interrupt();
        pods.close();
        jobs.close();
        for (var t : workloads.values()) {
            var pump = t.pump;
            if (pump != null) pump.interrupt();
        }
    }

    // ---- informer events

    private static <T extends HasMetadata> ResourceEventHandler<T> handler(java.util.function.Consumer<T> seen, java.util.function.Consumer<T> gone) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                seen.accept(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                seen.accept(newObj);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                gone.accept(obj);
            }
        };
    }

    private void onPod(Pod pod) {
        var id = workloadId(pod);
        if (id == null || closed) return;
        var t = workloads.get(id);
        if (t == null) t = adopt(pod, id);
        if (t == null) return;
        var status = pod.getStatus();
        var phase = status == null || status.getPhase() == null ? "Pending" : status.getPhase();
        notePod(t, pod);
        var startedAt = Optional.ofNullable(status == null ? null : status.getStartTime()).map(Instant::parse);
        if (t.kind.equals(JOB) && t.index < 0) {
            // The Job decides success and failure; its pod tells when it runs.
            if (phase.equals("Running") && t.state.phase() == WorkloadPhase.QUEUED) {
                update(t, WorkloadPhase.RUNNING, Optional.empty(), "running on node " + pod.getSpec().getNodeName(), startedAt);
            }
            return;
        }
        if (t.gang != null && (phase.equals("Running") || phase.equals("Pending"))) {
            refreshGang(t.gang);
            return;
        }
        applyPod(t, pod);
    }

    /** Maps a bare pod's phase onto its workload, gangs aside. */
    private void applyPod(Tracked t, Pod pod) {
        var status = pod.getStatus();
        var phase = status == null || status.getPhase() == null ? "Pending" : status.getPhase();
        var exit = exitCode(pod);
        var startedAt = Optional.ofNullable(status == null ? null : status.getStartTime()).map(Instant::parse);
        switch (phase) {
            case "Running" -> update(t, WorkloadPhase.RUNNING, Optional.empty(), "running on node " + pod.getSpec().getNodeName(), startedAt);
            case "Succeeded" -> finish(t, WorkloadPhase.SUCCEEDED, Optional.of(exit.orElse(0)), "exited with code " + exit.orElse(0));
            case "Failed" -> finish(t, WorkloadPhase.FAILED, exit, failure(status.getReason(), status.getMessage(), exit));
            case "Pending" -> update(t, WorkloadPhase.QUEUED, Optional.empty(), pendingReason(pod), Optional.empty());
            default -> {
                // Unknown: the node stopped reporting; the pod may still run, so keep the last state.
            }
        }
    }

    /** The pod whose log the workload's log copies (a Job's first), and whether it is done writing. */
    private static void notePod(Tracked t, Pod pod) {
        var phase = pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending" : pod.getStatus().getPhase();
        exitCode(pod).ifPresent(code -> t.exitCode = code);
        if (phase.equals("Running") || phase.equals("Succeeded") || phase.equals("Failed")) {
            if (t.logPod == null) t.logPod = pod.getMetadata().getName();
            if (pod.getMetadata().getName().equals(t.logPod) && !phase.equals("Running")) t.logPodDone = true;
        }
    }

    private void onPodGone(Pod pod) {
        var id = workloadId(pod);
        if (id == null) return;
        var t = workloads.get(id);
        if (t == null || t.released != null) return;
        if (pod.getMetadata().getName().equals(t.logPod)) t.logPodDone = true;
        if (t.kind.equals(POD)) {
            finish(t, WorkloadPhase.LOST, Optional.empty(), "its pod " + t.namespace + "/" + t.name + " was deleted by someone other than Capstan");
        }
    }

    private void onJob(Job job) {
        if (indexedIds(job) != null) {
            onIndexedJob(job);
            return;
        }
        var id = workloadId(job);
        if (id == null || closed) return;
        var t = workloads.get(id);
        if (t == null) t = adopt(job, id);
        if (t == null || !t.kind.equals(JOB)) return;
        var status = job.getStatus();
        if (status == null) return;
        var conditions = status.getConditions() == null ? List.<JobCondition>of() : status.getConditions();
        for (var c : conditions) {
            if (!"True".equals(c.getStatus())) continue;
            if (c.getType().equals("Complete")) {
                finish(t, WorkloadPhase.SUCCEEDED, Optional.of(0), "exited with code 0");
                return;
            }
            if (c.getType().equals("Failed")) {
                var exit = Optional.ofNullable(t.exitCode);
                finish(t, WorkloadPhase.FAILED, exit, failure(c.getReason(), c.getMessage(), exit));
                return;
            }
        }
        var startedAt = Optional.ofNullable(status.getStartTime()).map(Instant::parse);
        if (status.getActive() != null && status.getActive() > 0 && status.getReady() != null && status.getReady() > 0) {
            update(t, WorkloadPhase.RUNNING, Optional.empty(), "running", startedAt);
        }
    }

    private void onJobGone(Job job) {
        var ids = indexedIds(job);
        if (ids != null) {
            for (var member : ids) {
                var t = workloads.get(member);
                if (t != null && t.index >= 0) {
                    finish(t, WorkloadPhase.LOST, Optional.empty(), "its Job " + t.namespace + "/" + t.name + " was deleted by someone other than Capstan");
                }
            }
            return;
        }
        var id = workloadId(job);
        if (id == null) return;
        var t = workloads.get(id);
        if (t != null && t.kind.equals(JOB)) {
            finish(t, WorkloadPhase.LOST, Optional.empty(), "its Job " + t.namespace + "/" + t.name + " was deleted by someone other than Capstan");
        }
    }

    /** A Pod or Job with Capstan's labels whose workload this backend does not know: launched before a restart or by another replica. */
    private Tracked adopt(HasMetadata o, String id) {
        var ownerKind = o.getKind();
        if (o instanceof Pod p && p.getMetadata().getOwnerReferences() != null
                && p.getMetadata().getOwnerReferences().stream().anyMatch(r -> JOB.equals(r.getKind()))) {
            return null; // A Job's pod: its Job adopts the workload.
        }
        if (o instanceof Pod p && p.getMetadata().getLabels() != null && p.getMetadata().getLabels().containsKey("job-name")) return null;
        if (indexedIds(o) != null) return null; // An Indexed Job's pod: the Job adopts its members.
        synchronized (lock) {
            var known = workloads.get(id);
            if (known != null) return known;
            String container = Placement.DEFAULT_CONTAINER;
            if (o instanceof Pod p && p.getSpec() != null && !p.getSpec().getContainers().isEmpty()
                    && p.getSpec().getContainers().stream().noneMatch(c -> Placement.DEFAULT_CONTAINER.equals(c.getName()))) {
                container = p.getSpec().getContainers().getFirst().getName();
            }
            Optional<String> service = Optional.empty();
            if (o instanceof Job j && j.getSpec() != null && j.getSpec().getTemplate().getSpec() != null) {
                service = Optional.ofNullable(j.getSpec().getTemplate().getSpec().getSubdomain());
            }
            var t = new Tracked(id, o.getMetadata().getNamespace(), ownerKind, o.getMetadata().getName(), container, service, dirOf(id),
                    new WorkloadState(id, WorkloadPhase.QUEUED, Optional.empty(), "adopted " + ownerKind + " " + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName(),
                            Optional.empty(), Optional.empty(), List.of()), options.clock());
            var gangSize = o.getMetadata().getAnnotations() == null ? null : o.getMetadata().getAnnotations().get(CapstanLabels.GANG_SIZE_ANNOTATION);
            if (o instanceof Pod && gangSize != null && o.getMetadata().getLabels().get(CapstanLabels.GANG) != null) {
                t.gang = o.getMetadata().getLabels().get(CapstanLabels.GANG);
                t.gangSize = parseSize(gangSize);
            }
            t.podCreated = options.clock().instant();
            createDir(t.dir);
            persist(t);
            workloads.put(id, t);
            LOG.info("adopted {} {}/{} of workload {}", ownerKind, o.getMetadata().getNamespace(), o.getMetadata().getName(), id);
            // The pump starts once the constructor's first sync is over, or now for an object seen later.
            if (pods != null && jobs != null) startPump(t);
            return t;
        }
    }

    // ---- gangs

    /**
     * Holds every member of {@code gang} QUEUED, saying what it waits for, until all its members are launched and all
     * their pods are scheduled; then each member follows its own pod.
     */
    private void refreshGang(String gang) {
        var members = members(gang);
        var wait = gangWait(gang, members);
        if (wait.isEmpty()) members.forEach(m -> m.admitted = true);
        for (var m : members) {
            if (m.state.phase().isTerminal()) continue;
            var pod = podOf(m);
            if (wait.isEmpty() && pod != null) applyPod(m, pod);
            else if (wait.isPresent()) update(m, WorkloadPhase.QUEUED, Optional.empty(), wait.get(), Optional.empty());
        }
    }

    private List<Tracked> members(String gang) {
        return workloads.values().stream().filter(t -> gang.equals(t.gang)).sorted(Comparator.comparing(t -> t.name)).toList();
    }

    /** What the gang waits for; empty when all its pods are scheduled. */
    private Optional<String> gangWait(String gang, List<Tracked> members) {
        // A member that fails or vanishes later is its own workload's failure, not a reason to hold the others.
        if (members.stream().anyMatch(m -> m.admitted)) return Optional.empty();
        int size = members.stream().mapToInt(m -> m.gangSize).max().orElse(0);
        if (members.size() < size) return Optional.of("gang %s: %d of %d members launched; waiting for the rest".formatted(gang, members.size(), size));
        int scheduled = 0;
        String waiting = null;
        for (var m : members) {
            var pod = podOf(m);
            if (pod != null && isScheduled(pod)) scheduled++;
            else if (waiting == null) waiting = pod == null ? m.name + ": not created yet" : m.name + ": " + pendingReason(pod);
        }
        if (scheduled >= size) return Optional.empty();
        var released = members.stream().map(m -> m.retryAt).filter(Objects::nonNull).findFirst();
        var text = "gang %s: %d of %d pods scheduled; waiting for %s".formatted(gang, scheduled, size, waiting);
        if (released.isPresent()) {
            text = "gang %s did not fit within %ss (%d of %d pods scheduled; %s); its pods were deleted to free what they held, retrying at %s"
                    .formatted(gang, options.gangTimeout().toSeconds(), lastScheduled(members), size, lastWaiting(members), released.get());
        }
        return Optional.of(text);
    }

    private static int lastScheduled(List<Tracked> members) {
        return (int) members.stream().filter(m -> m.released != null && isScheduled(m.released)).count();
    }

    private static String lastWaiting(List<Tracked> members) {
        return members.stream().filter(m -> m.released != null && !isScheduled(m.released)).findFirst()
                .map(m -> m.name + ": " + pendingReason(m.released)).orElse("pods not scheduled");
    }

    private Pod podOf(Tracked t) {
        // Null while the constructor's first sync runs; the gang check below catches up on its next tick.
        var informer = pods;
        if (informer == null) return null;
        if (t.index >= 0) {
            // The Job controller names its pods; the member's is the one at its completion index.
            return informer.getIndexer().list().stream().filter(p -> t.id.equals(workloadId(p))).findFirst().orElse(null);
        }
        return informer.getIndexer().getByKey(t.namespace + "/" + t.name);
    }

    /** Bound to a node: what a gang waits for of each of its pods. */
    static boolean isScheduled(Pod pod) {
        if (pod.getSpec() != null && pod.getSpec().getNodeName() != null) return true;
        var status = pod.getStatus();
        if (status == null) return false;
        var phase = status.getPhase();
        if ("Running".equals(phase) || "Succeeded".equals(phase) || "Failed".equals(phase)) return true;
        return status.getConditions() != null && status.getConditions().stream()
                .anyMatch(c -> "PodScheduled".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Releases gangs that waited too long and recreates released ones when their retry time comes. */
    private void watchGangs() {
        var tick = Duration.ofMillis(Math.max(50, Math.min(1000, options.gangTimeout().toMillis() / 4)));
        while (!closed) {
            try {
                Thread.sleep(tick.toMillis());
                var now = options.clock().instant();
                var gangNames = workloads.values().stream().filter(t -> t.gang != null && !t.state.phase().isTerminal()).map(t -> t.gang)
                        .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
                for (var gang : gangNames) {
                    var members = members(gang).stream().filter(m -> !m.state.phase().isTerminal()).toList();
                    if (members.stream().anyMatch(m -> m.released != null)) {
                        if (members.stream().allMatch(m -> m.retryAt == null || !now.isBefore(m.retryAt))) recreate(gang, members);
                        continue;
                    }
                    // Level-triggered: a member adopted during the first sync, or an event lost, is caught up here.
                    refreshGang(gang);
                    if (options.kueueQueue().isPresent()) continue;
                    // An Indexed Job's controller would create deleted pods again at once: such a gang waits, saying why.
                    if (members.stream().anyMatch(m -> m.index >= 0)) continue;
                    var wait = gangWait(gang, members(gang));
                    var oldest = members.stream().map(m -> m.podCreated).filter(Objects::nonNull).min(Comparator.naturalOrder());
                    int size = members.stream().mapToInt(m -> m.gangSize).max().orElse(0);
                    if (wait.isPresent() && members.size() >= size && oldest.isPresent() && !now.isBefore(oldest.get().plus(options.gangTimeout()))) {
                        release(gang, members, now);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("gang admission check failed, retrying: {}", e.toString());
            }
        }
    }

    /** Deletes the gang's pods (keeping their Services), so that a part-scheduled gang holds nothing while it waits. */
    private void release(String gang, List<Tracked> members, Instant now) {
        var retryAt = now.plus(options.gangRetry());
        for (var m : members) {
            var pod = podOf(m);
            if (pod == null) continue;
            m.released = pod;
            m.retryAt = retryAt;
            writeReleased(m);
        }
        LOG.info("gang {} was not scheduled within {}; deleting its pods and retrying at {}", gang, options.gangTimeout(), retryAt);
        for (var m : members) {
            if (m.released == null) continue;
            try {
                client.pods().inNamespace(m.namespace).withName(m.name).withGracePeriod(0).delete();
            } catch (KubernetesClientException e) {
                LOG.warn("cannot delete pod {}/{} of gang {}: {}", m.namespace, m.name, gang, e.getMessage());
            }
        }
        refreshGang(gang);
    }

    private void recreate(String gang, List<Tracked> members) {
        for (var m : members) {
            var old = m.released;
            if (old == null) continue;
            var fresh = new io.fabric8.kubernetes.api.model.PodBuilder()
                    .withNewMetadata().withName(old.getMetadata().getName()).withNamespace(old.getMetadata().getNamespace())
                    .withLabels(old.getMetadata().getLabels()).withAnnotations(old.getMetadata().getAnnotations()).endMetadata()
                    .withSpec(old.getSpec()).build();
            fresh.getSpec().setNodeName(null);
            try {
                client.resource(fresh).create();
            } catch (KubernetesClientException e) {
                // 409: the old pod is still terminating; the next tick tries again.
                LOG.debug("cannot recreate pod {}/{} of gang {} yet: {}", m.namespace, m.name, gang, e.getMessage());
                return;
            }
            m.podCreated = options.clock().instant();
            m.released = null;
            m.retryAt = null;
            deleteReleased(m);
        }
        refreshGang(gang);
    }

    private void writeReleased(Tracked t) {
        try {
            Files.writeString(t.dir.resolve("released-pod.json"), io.fabric8.kubernetes.client.utils.Serialization.asJson(t.released));
        } catch (IOException e) {
            LOG.warn("cannot record the released pod of {}: {}", t.id, e.toString());
        }
    }

    private static void deleteReleased(Tracked t) {
        try {
            Files.deleteIfExists(t.dir.resolve("released-pod.json"));
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", t.dir.resolve("released-pod.json"), e.toString());
        }
    }

    // ---- state

    private void update(Tracked t, WorkloadPhase phase, Optional<Integer> exit, String message, Optional<Instant> startedAt) {
        synchronized (lock) {
            var s = t.state;
            if (s.phase().isTerminal() || t.removed) return;
            var started = s.startedAt().or(() -> phase == WorkloadPhase.RUNNING ? startedAt.or(() -> Optional.of(options.clock().instant())) : Optional.empty());
            var next = new WorkloadState(t.id, phase, exit, message, started, Optional.empty(), List.of());
            if (next.equals(s)) return;
            t.state = next;
            persist(t);
        }
    }

    private void finish(Tracked t, WorkloadPhase phase, Optional<Integer> exit, String message) {
        synchronized (lock) {
            var s = t.state;
            if (s.phase().isTerminal() || t.removed) return;
            t.beforeFinish = s;
            t.finishedSeen = System.nanoTime();
            t.state = new WorkloadState(t.id, phase, exit, message, s.startedAt(), Optional.of(options.clock().instant()), List.of());
            persist(t);
        }
        if (phase == WorkloadPhase.LOST || phase == WorkloadPhase.CANCELLED) t.logPodDone = true;
    }

    private static String failure(String reason, String message, Optional<Integer> exit) {
        if ("DeadlineExceeded".equals(reason)) return "killed after its timeout (activeDeadlineSeconds)";
        if (exit.isPresent()) {
            int code = exit.get();
            if (code > 128 && code <= 192) return "killed by signal " + (code - 128);
            return "exited with code " + code;
        }
        var parts = Stream.of(reason, message).filter(Objects::nonNull).filter(s -> !s.isBlank()).toList();
        return parts.isEmpty() ? "failed" : "failed: " + String.join(": ", parts);
    }

    private static String pendingReason(Pod pod) {
        var status = pod.getStatus();
        if (status != null && status.getContainerStatuses() != null) {
            for (var cs : status.getContainerStatuses()) {
                var waiting = cs.getState() == null ? null : cs.getState().getWaiting();
                if (waiting != null && waiting.getReason() != null && !waiting.getReason().equals("ContainerCreating")) {
                    return "waiting: " + waiting.getReason() + (waiting.getMessage() == null ? "" : ": " + waiting.getMessage());
                }
            }
        }
        if (status != null && status.getConditions() != null) {
            for (PodCondition c : status.getConditions()) {
                if (c.getType().equals("PodScheduled") && "False".equals(c.getStatus())) {
                    return "not scheduled: " + c.getReason() + (c.getMessage() == null ? "" : ": " + c.getMessage());
                }
            }
        }
        return "pending";
    }

    private static Optional<Integer> exitCode(Pod pod) {
        var status = pod.getStatus();
        if (status == null || status.getContainerStatuses() == null) return Optional.empty();
        return status.getContainerStatuses().stream()
                .map(cs -> cs.getState() == null ? null : cs.getState().getTerminated())
                .filter(Objects::nonNull)
                .map(term -> term.getExitCode())
                .filter(Objects::nonNull)
                .max(Comparator.naturalOrder());
    }

    private static String workloadId(HasMetadata o) {
        var labels = o.getMetadata().getLabels();
        if (labels == null || !CapstanLabels.MANAGED_BY_VALUE.equals(labels.get(CapstanLabels.MANAGED_BY))) return null;
        var ids = indexedIds(o);
        if (ids != null) {
            // An Indexed Job stands for several workloads; each of its pods for the one at its completion index.
            if (!(o instanceof Pod)) return null;
            int index = completionIndex(o);
            return index >= 0 && index < ids.size() ? ids.get(index) : null;
        }
        return annotation(o);
    }

    /** The workloads of an Indexed Job or of its pod, in index order; null for anything else. */
    private static List<String> indexedIds(HasMetadata o) {
        var a = o.getMetadata().getAnnotations();
        var ids = a == null ? null : a.get(CapstanLabels.WORKLOAD_IDS_ANNOTATION);
        return ids == null || ids.isBlank() ? null : List.of(ids.split(","));
    }

    private static int completionIndex(HasMetadata o) {
        var a = o.getMetadata().getAnnotations();
        var l = o.getMetadata().getLabels();
        var value = a != null && a.containsKey(CapstanLabels.COMPLETION_INDEX) ? a.get(CapstanLabels.COMPLETION_INDEX)
                : l == null ? null : l.get(CapstanLabels.COMPLETION_INDEX);
        if (value == null) return -1;
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The other members of {@code t}'s Indexed Job that are still running; none for a workload of its own. */
    private List<Tracked> siblings(Tracked t) {
        if (t.index < 0) return List.of();
        return workloads.values().stream().filter(o -> o != t && o.index >= 0 && o.namespace.equals(t.namespace) && o.name.equals(t.name)
                && !o.state.phase().isTerminal()).toList();
    }

    /**
     * An Indexed Job that runs several workloads: each member follows its own pod (see {@link #onPod}); the Job
     * ends those still running when it fails (its deadline, or another member's failure) or completes. Members this
     * backend does not know are adopted, as after a restart.
     */
    private void onIndexedJob(Job job) {
        if (closed) return;
        var labels = job.getMetadata().getLabels();
        if (labels == null || !CapstanLabels.MANAGED_BY_VALUE.equals(labels.get(CapstanLabels.MANAGED_BY))) return;
        var ids = indexedIds(job);
        var members = new ArrayList<Tracked>();
        for (int i = 0; i < ids.size(); i++) {
            var t = workloads.get(ids.get(i));
            if (t == null) t = adoptMember(job, ids.get(i), i);
            if (t != null && t.index >= 0) members.add(t);
        }
        var status = job.getStatus();
        if (status == null || status.getConditions() == null) return;
        for (var c : status.getConditions()) {
            if (!"True".equals(c.getStatus())) continue;
            if (c.getType().equals("Complete")) {
                for (var t : members) finish(t, WorkloadPhase.SUCCEEDED, Optional.of(Optional.ofNullable(t.exitCode).orElse(0)), "exited with code 0");
                return;
            }
            if (c.getType().equals("Failed")) {
                for (var t : members) {
                    var exit = Optional.ofNullable(t.exitCode);
                    finish(t, WorkloadPhase.FAILED, exit, exit.isPresent() && exit.get() != 0 ? failure(null, null, exit)
                            : "stopped with its Job: " + failure(c.getReason(), c.getMessage(), Optional.empty()));
                }
                return;
            }
        }
    }

    private Tracked adoptMember(Job job, String id, int index) {
        synchronized (lock) {
            var known = workloads.get(id);
            if (known != null) return known;
            var template = job.getSpec() == null || job.getSpec().getTemplate() == null ? null : job.getSpec().getTemplate();
            var containers = template == null || template.getSpec() == null || template.getSpec().getContainers() == null
                    ? List.<io.fabric8.kubernetes.api.model.Container>of() : template.getSpec().getContainers();
            var container = containers.stream().map(io.fabric8.kubernetes.api.model.Container::getName).filter(Placement.DEFAULT_CONTAINER::equals).findFirst()
                    .orElse(containers.isEmpty() ? Placement.DEFAULT_CONTAINER : containers.getFirst().getName());
            var service = Optional.ofNullable(template == null || template.getSpec() == null ? null : template.getSpec().getSubdomain());
            var ns = job.getMetadata().getNamespace();
            var name = job.getMetadata().getName();
            var t = new Tracked(id, ns, JOB, name, container, service, dirOf(id),
                    new WorkloadState(id, WorkloadPhase.QUEUED, Optional.empty(), "adopted Job " + ns + "/" + name + " (index " + index + ")",
                            Optional.empty(), Optional.empty(), List.of()), options.clock());
            t.index = index;
            var gangSize = job.getMetadata().getAnnotations().get(CapstanLabels.GANG_SIZE_ANNOTATION);
            var gang = job.getMetadata().getLabels().get(CapstanLabels.GANG);
            if (gangSize != null && gang != null) {
                t.gang = gang;
                t.gangSize = parseSize(gangSize);
            }
            t.podCreated = options.clock().instant();
            createDir(t.dir);
            persist(t);
            workloads.put(id, t);
            LOG.info("adopted Job {}/{} index {} of workload {}", ns, name, index, id);
            if (pods != null && jobs != null) startPump(t);
            return t;
        }
    }

    private static String annotation(HasMetadata o) {
        var a = o.getMetadata().getAnnotations();
        return a == null ? null : a.get(CapstanLabels.WORKLOAD_ID_ANNOTATION);
    }

    // ---- logs

    private void startPump(Tracked t) {
        synchronized (lock) {
            if (t.pump != null || closed) return;
            if (t.state.phase().isTerminal() && t.logPod == null) {
                t.log.seal();
                return;
            }
            t.pump = Thread.ofVirtual().name("capstan-k8s-log-" + t.id).start(() -> pump(t));
        }
    }

    /**
     * Copies the pod's log into {@link PodLog} until the pod is done: a followed stream, re-opened (since the last
     * line's time) when it ends while the pod still runs.
     */
    private void pump(Tracked t) {
        try {
            while (!closed && !t.removed) {
                var pod = t.logPod;
                if (pod == null) {
                    if (t.state.phase().isTerminal()) break;
                    Thread.sleep(100);
                    continue;
                }
                boolean doneBefore = t.logPodDone;
                try {
                    stream(t, pod);
                } catch (KubernetesClientException e) {
                    if (e.getCode() == 404 && (t.logPodDone || t.state.phase().isTerminal())) break;
                    LOG.debug("log stream of {} failed, retrying: {}", t.id, e.getMessage());
                }
                // A stream that ends after the pod finished has delivered everything.
                if (doneBefore) break;
                if (t.logPodDone) continue;
                Thread.sleep(options.logRetry().toMillis());
            }
        } catch (InterruptedException e) {
            return;
        } catch (RuntimeException e) {
            LOG.warn("log stream of workload {} stopped: {}", t.id, e.toString());
        }
        if (!closed) t.log.seal();
    }

    private void stream(Tracked t, String pod) {
        var resume = t.log.resume();
        var appender = t.log.appender();
        var base = client.pods().inNamespace(t.namespace).withName(pod).inContainer(t.container).usingTimestamps();
        try (var watch = resume.at().isPresent() ? base.sinceTime(resume.at().get().toString()).watchLog() : base.watchLog();
             var reader = new BufferedReader(new InputStreamReader(watch.getOutput(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) appender.accept(line);
        } catch (IOException e) {
            LOG.debug("log stream of {} ended: {}", t.id, e.toString());
        }
    }

    // ---- files

    private Path dirOf(String id) {
        return options.stateDir().resolve(id);
    }

    private void load() {
        try (Stream<Path> dirs = Files.list(options.stateDir())) {
            for (var dir : dirs.filter(Files::isDirectory).toList()) {
                var file = dir.resolve("state.json");
                if (!Files.exists(file)) continue;
                try {
                    var t = read(dir, Json.json().readTree(file.toFile()));
                    workloads.put(t.id, t);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("skipping unreadable workload state {}: {}", file, e.toString());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + options.stateDir(), e);
        }
    }

    private Tracked read(Path dir, JsonNode n) throws IOException {
        var id = n.path("id").asText();
        var state = new WorkloadState(id, WorkloadPhase.valueOf(n.path("phase").asText()),
                n.hasNonNull("exitCode") ? Optional.of(n.get("exitCode").asInt()) : Optional.empty(), n.path("message").asText(""),
                text(n, "startedAt").map(Instant::parse), text(n, "finishedAt").map(Instant::parse), List.of());
        var t = new Tracked(id, n.path("namespace").asText(), n.path("kind").asText(), n.path("name").asText(),
                n.path("container").asText(Placement.DEFAULT_CONTAINER), text(n, "service"), dir, state, options.clock());
        if (n.hasNonNull("gang")) {
            t.gang = n.get("gang").asText();
            t.gangSize = n.path("gangSize").asInt(1);
        }
        t.podCreated = options.clock().instant();
        t.index = n.path("index").asInt(-1);
        var released = dir.resolve("released-pod.json");
        if (Files.exists(released) && !state.phase().isTerminal()) {
            // Released while this backend was down or just before: recreated at the next check.
            t.released = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(Files.readString(released), Pod.class);
            t.retryAt = options.clock().instant();
        }
        return t;
    }

    private static int parseSize(String s) {
        try {
            return Math.max(1, Integer.parseInt(s.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Writes the workload's state; callers hold {@link #lock}. */
    private void persist(Tracked t) {
        if (t.removed) return;
        ObjectNode n = Json.json().createObjectNode();
        var s = t.state;
        n.put("id", t.id).put("namespace", t.namespace).put("kind", t.kind).put("name", t.name).put("container", t.container);
        t.service.ifPresent(v -> n.put("service", v));
        if (t.gang != null) n.put("gang", t.gang).put("gangSize", t.gangSize);
        if (t.index >= 0) n.put("index", t.index);
        n.put("phase", s.phase().name()).put("message", s.message());
        s.exitCode().ifPresent(c -> n.put("exitCode", c));
        s.startedAt().ifPresent(i -> n.put("startedAt", i.toString()));
        s.finishedAt().ifPresent(i -> n.put("finishedAt", i.toString()));
        var file = t.dir.resolve("state.json");
        var tmp = t.dir.resolve(".state.json.tmp");
        try {
            Files.write(tmp, Json.json().writeValueAsBytes(n));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (NoSuchFileException e) {
            // Removed meanwhile.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + "; check that the folder is writable and the disk has space", e);
        }
    }

    private static Optional<String> text(JsonNode n, String field) {
        return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
    }

    private static void createDir(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private static void deleteDir(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (var p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (NoSuchFileException e) {
            // Gone already.
        } catch (IOException e) {
            throw new TransientException("cannot delete workload folder " + dir + ": " + e + "; fix its permissions and retry", e);
        }
    }

    private Tracked entry(String id) {
        var t = workloads.get(id);
        if (t == null) throw new NotFoundException("workload '" + io.capstan.core.Names.printable(id) + "' does not exist on this backend");
        return t;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("the Kubernetes backend is closed");
    }

    private static RuntimeException translate(KubernetesClientException e, String what) {
        if (e.getCode() == 422 || e.getCode() == 400) return InvalidSpecException.of("spec", "Kubernetes refused to " + what + ": " + e.getMessage());
        if (e.getCode() == 403) return new TransientException("Kubernetes forbids Capstan to " + what + " (check its RBAC): " + e.getMessage(), e);
        return new TransientException("cannot " + what + ": " + e.getMessage(), e);
    }
}
