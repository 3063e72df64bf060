package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.Json;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.serving.http.InferenceHttpService;
import io.capstan.serving.http.PredictorGateway;
import io.capstan.serving.python.HostProcessLauncher;
import io.capstan.serving.python.ModelProcesses;
import io.capstan.serving.python.SklearnModelRuntime;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.spec.InferenceServiceSpec;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serves each InferenceService: every change of its predictor creates an immutable revision
 * (recorded in {@code status.revisions} before it loads); the revision that is serving keeps
 * serving until the new one is ready, and keeps serving if the new one fails, with the reason in
 * the status. {@code canaryTrafficPercent} splits traffic between the newest ready revision and
 * the last rolled-out one; the {@value #SHADOW_ANNOTATION} annotation instead mirrors that share to
 * the new revision and keeps the rolled-out one answering. The {@value InferenceHttpService#MAX_REQUEST_BYTES_ANNOTATION}
 * annotation sets the largest request body the service accepts, at once, without a new revision.
 */
public final class InferenceServiceReconciler implements Reconciler {
    public static final String SHADOW_ANNOTATION = "serving.capstan.io/shadow-percent";
    public static final String QUEUE_LIMIT_ANNOTATION = "serving.capstan.io/queue-limit";
    public static final String SCALE_TO_ZERO_ANNOTATION = "serving.capstan.io/scale-to-zero-after";
    public static final String LOGGER_SAMPLE_ANNOTATION = "serving.capstan.io/logger-sample-percent";
    /** Set by the model registry when an alias a hand-written {@code model-registry://MODEL@ALIAS} names moves: a new revision resolves it again. */
    static final String REGISTRY_VERSION_ANNOTATION = "serving.capstan.io/registry-version";
    private static final List<String> REVISION_ANNOTATIONS = List.of(QUEUE_LIMIT_ANNOTATION, SCALE_TO_ZERO_ANNOTATION,
            LOGGER_SAMPLE_ANNOTATION, io.capstan.backend.ContainerOptions.EXECUTION_ANNOTATION, REGISTRY_VERSION_ANNOTATION);

    private static final java.util.regex.Pattern SIZE = java.util.regex.Pattern.compile("(\\d{1,10})(Ki|Mi|Gi)?");

    private final ResourceStore store;
    private final ModelServer server;
    private final ModelStorage storage;
    private final RuntimeSelection selection;
    private final MeterRegistry meters;
    private final Clock clock;
    private final java.util.function.Supplier<String> baseUrl;
    private final Path emptyModelDir;
    /** Where custom containers' secret and config-map volumes are written, a folder per process (0700, files 0600). */
    private final Path volumesDir;
    private final Map<ResourceKey, Map<Integer, Revision>> live = new ConcurrentHashMap<>();
    private final Map<ResourceKey, LoggerHolder> loggers = new ConcurrentHashMap<>();
    private final Map<ResourceKey, ReentrantLock> keyLocks = new ConcurrentHashMap<>();
    private final ModelProcesses processes;
    /** How long a model-server process may take to become ready. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(2);
    private final QuotaLedger quotas;
    private final CanaryRollout rollouts = new CanaryRollout();
    /**
     * While a canary is analysed: a fresh instance of the stable revision that takes the baseline cohort's traffic, so
     * that canary and baseline are alike in all but their version (both newly loaded, both with the same share of
     * requests), as Kayenta advises; its meters go to a registry of its own, apart from the stable revision's.
     */
    private final Map<ResourceKey, Revision> baselines = new ConcurrentHashMap<>();
    /** Reads storage URIs of other schemes (the Model Registry's); null: none. */
    private volatile io.capstan.serving.api.StorageUriResolver uriResolver;
    /** Where predictors run when not in this process (a Kubernetes backend's Deployments); null: here. */
    private volatile io.capstan.backend.PredictorPlacement placement;
    /** How often a revision whose predictor is placed elsewhere is looked at again while it starts. */
    static final Duration PLACED_POLL = Duration.ofSeconds(1);
    /** What a revision's storage URI resolved to when it first loaded, by "namespace/name/revision". */
    private final Map<String, io.capstan.serving.api.StorageUriResolver.Resolution> resolved = new ConcurrentHashMap<>();
    /** How soon a service whose replicas wait for quota is looked at again, so that a raised quota is seen. */
    static final Duration QUOTA_RETRY = Duration.ofSeconds(2);

    private record LoggerHolder(InferenceServiceSpec.LoggerSpec spec, int sample, PayloadLogger logger) {
    }

    public InferenceServiceReconciler(ResourceStore store, ModelServer server, ModelStorage storage,
                                      io.capstan.serving.runtime.Runtimes runtimes, MeterRegistry meters, Clock clock,
                                      String baseUrl, Path workDir) {
        this(store, server, storage, runtimes, meters, clock, () -> baseUrl, workDir);
    }

    /** As the other constructor, with the base URL known only once the HTTP server has its port. */
    public InferenceServiceReconciler(ResourceStore store, ModelServer server, ModelStorage storage,
                                      io.capstan.serving.runtime.Runtimes runtimes, MeterRegistry meters, Clock clock,
                                      java.util.function.Supplier<String> baseUrl, Path workDir) {
        this(store, server, storage, runtimes, meters, clock, baseUrl, workDir,
                new ModelProcesses(new HostProcessLauncher(), workDir.resolve("processes"), DEFAULT_START_TIMEOUT), new QuotaLedger());
    }

    /** As the other constructors, with every model replica charged to its namespace's quota in {@code quotas}. */
    public InferenceServiceReconciler(ResourceStore store, ModelServer server, ModelStorage storage,
                                      io.capstan.serving.runtime.Runtimes runtimes, MeterRegistry meters, Clock clock,
                                      java.util.function.Supplier<String> baseUrl, Path workDir, QuotaLedger quotas) {
        this(store, server, storage, runtimes, meters, clock, baseUrl, workDir,
                new ModelProcesses(new HostProcessLauncher(), workDir.resolve("processes"), DEFAULT_START_TIMEOUT), quotas);
    }

    /**
     * As the other constructors, with the model-server processes that custom predictor and transformer containers run
     * as (host processes, or a container runner behind {@link io.capstan.serving.python.ProcessLauncher}), and every
     * model replica charged to its namespace's quota in {@code quotas}.
     */
    public InferenceServiceReconciler(ResourceStore store, ModelServer server, ModelStorage storage,
                                      io.capstan.serving.runtime.Runtimes runtimes, MeterRegistry meters, Clock clock,
                                      java.util.function.Supplier<String> baseUrl, Path workDir, ModelProcesses processes,
                                      QuotaLedger quotas) {
        this.processes = processes;
        this.quotas = java.util.Objects.requireNonNull(quotas, "quotas");
        this.store = store;
        this.server = server;
        this.storage = storage;
        this.selection = new RuntimeSelection(store, runtimes, processes);
        this.meters = meters;
        this.clock = clock;
        this.baseUrl = baseUrl;
        this.emptyModelDir = workDir.resolve("no-storage");
        this.volumesDir = workDir.resolve("volumes");
        try {
            Files.createDirectories(emptyModelDir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Runs predictors where {@code placement} puts them instead of in this process. */
    public void setPredictorPlacement(io.capstan.backend.PredictorPlacement placement) {
        this.placement = placement;
    }

    @Override
    public String kind() {
        return ServingKinds.INFERENCE_SERVICE;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var lock = lockOf(key);
        lock.lock();
        try {
            return reconcileLocked(key);
        } finally {
            lock.unlock();
        }
    }

    /**
     * On a server that does not lead: serves what the leader made ready, read from the store. The revisions that
     * the stored status calls Ready load here too (those the route needs), and traffic is split as the status and
     * spec say; nothing is written, since status belongs to the leader. A revision that fails to load here is left
     * out of this server's route, and the next change or resync tries it again.
     */
    public void follow(ResourceKey key) {
        var lock = lockOf(key);
        lock.lock();
        try {
            var found = store.find(key);
            if (found.isEmpty()) {
                unload(key);
                return;
            }
            var isvc = found.get();
            var spec = InferenceServiceSpec.parse(isvc.spec(), new Problems());
            if (spec == null) return; // the leader reports it; whatever serves here keeps serving, as on the leader
            var records = RevisionRecord.listFrom(isvc.status().field("revisions"));
            Integer rolledOut = rolledOut(isvc);
            RevisionRecord newestReady = null;
            for (var r : records) if (r.state().equals(RevisionRecord.READY)) newestReady = r;
            var loaded = live.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
            for (var record : records) {
                boolean needed = record == newestReady || (rolledOut != null && record.number() == rolledOut);
                if (!needed || !record.state().equals(RevisionRecord.READY) || loaded.containsKey(record.number())) continue;
                try {
                    loaded.put(record.number(), started(key, record));
                } catch (ModelLoadException | ReplicaQuota.Exceeded e) {
                    System.getLogger(InferenceServiceReconciler.class.getName()).log(System.Logger.Level.WARNING,
                            "revision " + record.name() + " of " + key + " is ready on the leader but failed to load here: "
                                    + e.getMessage());
                }
            }
            var model = server.register(key.namespace(), key.name());
            var rollout = isvc.metadata().annotations().containsKey(RolloutSpec.ANNOTATION) ? CanaryRollout.of(isvc).orElse(null) : null;
            var route = route(key, isvc, spec, records, rolledOut, loaded, rollout);
            model.route(route.route());
            var latest = records.isEmpty() ? null : records.getLast();
            model.notReadyReason(latest != null && latest.state().equals(RevisionRecord.FAILED) ? latest.reason() : "the model is loading");
            retireUnrouted(loaded, route.route());
        } finally {
            lock.unlock();
        }
    }

    /** Serialises {@link #reconcile} and {@link #follow} of one key, which meet when leadership changes hands. */
    private ReentrantLock lockOf(ResourceKey key) {
        return keyLocks.computeIfAbsent(key, k -> new ReentrantLock());
    }

    private void unload(ResourceKey key) {
        server.remove(key.namespace(), key.name());
        closeBaseline(key);
        rollouts.forget(key);
        var revisions = live.remove(key);
        if (revisions != null) revisions.values().forEach(Revision::close);
        var logger = loggers.remove(key);
        if (logger != null) logger.logger().close();
    }

    private Result reconcileLocked(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            unload(key);
            var placed = placement;
            if (placed != null) placed.retain(key.namespace(), key.name(), java.util.Set.of());
            return Result.done();
        }
        var isvc = found.get();
        var problems = new Problems();
        var spec = InferenceServiceSpec.parse(isvc.spec(), problems);
        var model = server.register(key.namespace(), key.name());
        model.maxRequestBytes(maxRequestBytes(isvc).orElse(0));
        model.allowsAnonymous(io.capstan.serving.http.InferenceAccess.optsOut(isvc.metadata().annotations()));
        if (spec == null) {
            var message = problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse("invalid spec");
            writeStatus(isvc, isvc.status().withPhase("Failed").withObservedGeneration(isvc.metadata().generation())
                    .withCondition("Ready", model.ready(), model.ready() ? "PreviousRevisionServing" : "InvalidSpec", message, clock.instant()));
            return Result.done();
        }

        var records = new ArrayList<>(RevisionRecord.listFrom(isvc.status().field("revisions")));
        var hash = specHash(isvc);
        var latest = records.isEmpty() ? null : records.getLast();
        if (latest == null || !latest.specHash().equals(hash)) {
            int number = latest == null ? 1 : latest.number() + 1;
            latest = new RevisionRecord(number, RevisionRecord.nameOf(key.name(), number), hash, isvc.metadata().generation(),
                    RevisionRecord.LOADING, "", isvc.spec(), revisionAnnotations(isvc));
            records.add(latest);
            // Durable before acting: the revision exists in the status before its model loads.
            isvc = writeStatus(isvc, status(isvc, spec, records, rolledOut(isvc), model));
        }

        var loaded = live.computeIfAbsent(key, k -> new ConcurrentHashMap<>());
        Integer rolledOut = rolledOut(isvc);
        var rolloutState = CanaryRollout.of(isvc).orElse(null);
        // a canary that was rolled back is not loaded again until the spec changes
        int rolledBack = rolloutState != null && CanaryRollout.phase(rolloutState).equals(CanaryRollout.ROLLED_BACK)
                ? rolloutState.path("revision").asInt() : -1;
        java.util.Optional<String> quotaWait = java.util.Optional.empty();
        boolean starting = false;
        for (int i = 0; i < records.size(); i++) {
            var record = records.get(i);
            boolean needed = (record == records.getLast() && record.number() != rolledBack) || (rolledOut != null && record.number() == rolledOut);
            if (!needed || record.state().equals(RevisionRecord.FAILED) || loaded.containsKey(record.number())) continue;
            try {
                loaded.put(record.number(), started(key, record));
                records.set(i, record.withState(RevisionRecord.READY, ""));
            } catch (ReplicaQuota.Exceeded e) {
                // Not a failure: the revision stays Loading and is tried again when the quota may have room.
                quotaWait = java.util.Optional.of(e.getMessage());
            } catch (PredictorStarting e) {
                // placed elsewhere and not available yet: it stays Loading and is looked at again
                starting = true;
            } catch (ModelLoadException e) {
                records.set(i, record.withState(RevisionRecord.FAILED, e.getMessage()));
            }
        }
        for (var revision : loaded.values()) if (quotaWait.isEmpty()) quotaWait = revision.quotaWait();

        var rolloutProblems = new Problems();
        var rolloutText = isvc.metadata().annotations().get(RolloutSpec.ANNOTATION);
        var rolloutSpec = rolloutText == null ? java.util.Optional.<RolloutSpec>empty() : RolloutSpec.parse(rolloutText, rolloutProblems);
        Duration nextAnalysis = null;
        var newest = newestReady(records, loaded);
        var previous = rolledOut == null ? null : loaded.get(rolledOut);
        if (rolloutSpec.isPresent() && newest != null && previous != null && newest != previous) {
            if (rolloutState == null || rolloutState.path("revision").asInt() != newest.number()) {
                rolloutState = CanaryRollout.start(key.name(), newest.number(), previous.number(), rolloutSpec.get(), clock.instant());
            }
            rolloutState = rollouts.advance(key, rolloutState, rolloutSpec.get(),
                    isvc.metadata().annotations().getOrDefault(RolloutSpec.APPROVE_ANNOTATION, ""), clock.instant());
            if (CanaryRollout.phase(rolloutState).equals(CanaryRollout.PROGRESSING)) {
                var wait = CanaryRollout.untilNext(rolloutState, rolloutSpec.get(), clock.instant());
                nextAnalysis = wait.isZero() ? rolloutSpec.get().interval() : wait;
            }
        } else if (rolloutState != null && rolloutSpec.isEmpty() && CanaryRollout.analysing(rolloutState)) {
            rolloutState = CanaryRollout.cancelled(rolloutState, rolloutText == null
                    ? "the " + RolloutSpec.ANNOTATION + " annotation was removed" : "the " + RolloutSpec.ANNOTATION + " annotation is invalid",
                    clock.instant());
            rollouts.forget(key);
        }
        boolean keepBaseline = rolloutSpec.isPresent() && rolloutState != null && CanaryRollout.analysing(rolloutState) && newest != null
                && previous != null && newest != previous;
        if (keepBaseline) {
            rolloutState.put("baseline", baseline(key, records, previous.number())
                    ? "a fresh instance of " + RevisionRecord.nameOf(key.name(), previous.number())
                    : RevisionRecord.nameOf(key.name(), previous.number()) + " itself (a fresh instance could not start)");
        }
        var route = route(key, isvc, spec, records, rolledOut, loaded, rolloutSpec.isPresent() ? rolloutState : null);
        model.route(route.route());
        var latestRecord = records.getLast();
        model.notReadyReason(latestRecord.state().equals(RevisionRecord.FAILED) ? latestRecord.reason() : "the model is loading");
        retireUnrouted(loaded, route.route());
        var placed = placement;
        if (placed != null) {
            // what is routed, and the newest revision while it starts, keeps its predictor; the rest are removed
            var keep = new java.util.HashSet<>(loaded.keySet());
            if (starting) keep.add(records.getLast().number());
            placed.retain(key.namespace(), key.name(), keep);
        }
        if (!keepBaseline) closeBaseline(key); // after the route that used it is replaced
        var kept = new ArrayList<RevisionRecord>();
        for (var r : records) {
            if (r == latestRecord || loaded.containsKey(r.number())) kept.add(r);
        }
        var next = status(isvc, spec, kept, route.rolledOut(), model);
        if (rolloutState != null) next = next.withField("rollout", rolloutState);
        if (!rolloutProblems.isEmpty() && next.field("warnings").orElse(null) instanceof com.fasterxml.jackson.databind.node.ArrayNode w) {
            var warnings = w.deepCopy();
            rolloutProblems.errors().forEach(e -> warnings.add(e + "; the rollout annotation is ignored"));
            next = next.withField("warnings", warnings);
        }
        next = quotaWait.isPresent() ? QuotaCondition.waiting(next, quotaWait.get(), clock.instant()) : QuotaCondition.cleared(next, clock.instant());
        writeStatus(isvc, next);
        if (quotaWait.isPresent()) {
            return Result.requeueAfter(nextAnalysis != null && nextAnalysis.compareTo(QUOTA_RETRY) < 0 ? nextAnalysis : QUOTA_RETRY);
        }
        if (starting) return Result.requeueAfter(nextAnalysis != null && nextAnalysis.compareTo(PLACED_POLL) < 0 ? nextAnalysis : PLACED_POLL);
        return nextAnalysis != null ? Result.requeueAfter(nextAnalysis) : Result.done();
    }

    private record Routing(Route route, Integer rolledOut) {
    }

    /** Whether a fresh instance of revision {@code stable} serves as the baseline cohort, starting it if need be. */
    private boolean baseline(ResourceKey key, List<RevisionRecord> records, int stable) {
        var current = baselines.get(key);
        if (current != null && current.number() == stable) return true;
        closeBaseline(key);
        var record = records.stream().filter(r -> r.number() == stable).findFirst();
        if (record.isEmpty()) return false;
        try {
            baselines.put(key, started(key, record.get(), new io.micrometer.core.instrument.simple.SimpleMeterRegistry()));
            return true;
        } catch (ModelLoadException | ReplicaQuota.Exceeded e) {
            System.getLogger(InferenceServiceReconciler.class.getName()).log(System.Logger.Level.WARNING,
                    "the baseline instance of " + record.get().name() + " did not start; the stable revision is the baseline: " + e.getMessage());
            return false;
        }
    }

    private void closeBaseline(ResourceKey key) {
        var baseline = baselines.remove(key);
        if (baseline != null) baseline.close();
    }

    private static Revision newestReady(List<RevisionRecord> records, Map<Integer, Revision> loaded) {
        Revision newest = null;
        for (var r : records) {
            if (r.state().equals(RevisionRecord.READY) && loaded.containsKey(r.number())) newest = loaded.get(r.number());
        }
        return newest;
    }

    /** @param rollout the canary rollout in force ({@code status.rollout}), which decides the split; null for none */
    private Routing route(ResourceKey key, Resource isvc, InferenceServiceSpec spec, List<RevisionRecord> records,
                          Integer rolledOut, Map<Integer, Revision> loaded, ObjectNode rollout) {
        var newest = newestReady(records, loaded);
        var logger = logger(key, isvc, spec);
        if (newest == null) return new Routing(Route.NONE, rolledOut);
        var previous = rolledOut == null ? null : loaded.get(rolledOut);
        if (rollout != null && previous != null && previous != newest && rollout.path("revision").asInt() == newest.number()) {
            switch (CanaryRollout.phase(rollout)) {
                case CanaryRollout.ROLLED_BACK -> {
                    return new Routing(Route.allTo(previous, logger), rolledOut);
                }
                case CanaryRollout.PROGRESSING, CanaryRollout.AWAITING_APPROVAL -> {
                    // Kayenta's advice: the canary is compared with a cohort of the stable revision that has equal traffic
                    int weight = rollout.path("weight").asInt();
                    var targets = new ArrayList<Route.Target>();
                    targets.add(new Route.Target(newest, weight, CanaryCohorts.Cohort.CANARY));
                    var baseline = baselines.get(key);
                    targets.add(new Route.Target(baseline != null && baseline.number() == previous.number() ? baseline : previous, weight,
                            CanaryCohorts.Cohort.BASELINE));
                    // at 50% the stable revision takes no traffic, but stays routed (and loaded) for a rollback
                    targets.add(new Route.Target(previous, 100 - 2 * weight));
                    var cohorts = rollouts.cohorts(key, rollout);
                    cohorts.mirrorPercent(mirrorPercent(isvc));
                    return new Routing(new Route(targets, null, 0, logger, cohorts), rolledOut);
                }
                default -> {
                    return new Routing(Route.allTo(newest, logger), newest.number());
                }
            }
        }
        int shadow = annotationInt(isvc, SHADOW_ANNOTATION, 0, 0, 100);
        var canary = spec.predictor().canaryTrafficPercent();
        if (previous != null && previous != newest && shadow > 0) {
            return new Routing(new Route(List.of(new Route.Target(previous, 100)), newest, shadow, logger), rolledOut);
        }
        if (previous != null && previous != newest && canary.isPresent() && canary.get() < 100) {
            var targets = new ArrayList<Route.Target>();
            if (canary.get() > 0) targets.add(new Route.Target(newest, canary.get()));
            targets.add(new Route.Target(previous, 100 - canary.get()));
            return new Routing(new Route(targets, null, 0, logger), rolledOut);
        }
        return new Routing(Route.allTo(newest, logger), newest.number());
    }

    private PayloadLogger logger(ResourceKey key, Resource isvc, InferenceServiceSpec spec) {
        var wanted = spec.predictor().logger().filter(l -> l.url() != null).orElse(null);
        int sample = annotationInt(isvc, LOGGER_SAMPLE_ANNOTATION, 100, 0, 100);
        var current = loggers.get(key);
        if (current != null && java.util.Objects.equals(current.spec(), wanted) && current.sample() == sample) return current.logger();
        if (current != null) current.logger().close();
        if (wanted == null) {
            loggers.remove(key);
            return PayloadLogger.NONE;
        }
        var logger = new PayloadLoggers(wanted.url(), wanted.mode(), sample, clock);
        loggers.put(key, new LoggerHolder(wanted, sample, logger));
        return logger;
    }

    private static void retireUnrouted(Map<Integer, Revision> loaded, Route route) {
        var keep = new java.util.HashSet<Revision>();
        route.targets().forEach(t -> keep.add(t.revision()));
        if (route.shadow() != null) keep.add(route.shadow());
        var iterator = loaded.entrySet().iterator();
        while (iterator.hasNext()) {
            var entry = iterator.next();
            if (!keep.contains(entry.getValue())) {
                entry.getValue().close();
                iterator.remove();
            }
        }
    }

    /** The revision, started; one that fails to start is closed (with its processes) before the failure is reported. */
    private Revision started(ResourceKey key, RevisionRecord record) throws ModelLoadException {
        return started(key, record, meters);
    }

    private Revision started(ResourceKey key, RevisionRecord record, MeterRegistry registry) throws ModelLoadException {
        var revision = build(key, record, registry);
        try {
            revision.start();
            return revision;
        } catch (ModelLoadException | RuntimeException e) {
            revision.close();
            throw e;
        }
    }

    private Revision build(ResourceKey key, RevisionRecord record, MeterRegistry meters) throws ModelLoadException {
        var spec = InferenceServiceSpec.parse(record.spec(), new Problems());
        if (spec == null) throw new ModelLoadException("the revision's spec is no longer valid");
        if (!spec.unsupportedComponents().isEmpty()) throw new ModelLoadException(String.join("; ", spec.unsupportedComponents()));
        var predictor = spec.predictor();
        var placed = placement;
        if (placed != null) return placed(placed, key, record, spec, meters);
        var quota = replicaQuota(key, record, predictor);
        var predictorLoader = loader(key, record, predictor, null);
        var settings = settings(predictor, record.annotations());
        if (spec.transformer() == null) {
            return new Revision(key.namespace(), key.name(), record.number(), predictorLoader, settings, meters, clock, quota);
        }
        // KServe's transformer: requests go to the transformer's process, which calls the predictor at --predictor_host;
        // that is a loopback gateway to the predictor revision, which no public route reaches directly.
        var behind = new Revision(key.namespace(), key.name() + "-predictor", record.number(), predictorLoader, settings, meters, clock, quota);
        PredictorGateway gateway = null;
        try {
            behind.start();
            gateway = new PredictorGateway(new RevisionEndpoint(key.namespace(), key.name(), behind), key.namespace(), key.name(),
                    InferenceHttpService.MAX_REQUEST_BYTES_CEILING);
            var transformerLoader = loader(key, record, spec.transformer(), gateway.hostAndPort());
            var front = new Revision(key.namespace(), key.name(), record.number(), transformerLoader,
                    settings(spec.transformer(), record.annotations()), meters, clock);
            front.closeWith(gateway);
            front.closeWith(behind);
            return front;
        } catch (ModelLoadException | RuntimeException e) {
            if (gateway != null) gateway.close();
            behind.close();
            throw e;
        } catch (IOException e) {
            behind.close();
            throw new ModelLoadException("the predictor gateway for the transformer could not start: " + e.getMessage(), e);
        }
    }

    /** Thrown while a revision's predictor, placed elsewhere, is not available yet. */
    static final class PredictorStarting extends ModelLoadException {
        PredictorStarting(String message) {
            super(message);
        }
    }

    /**
     * A revision whose predictor runs where {@code placement} puts it: one replica here calls it over HTTP, and the
     * placement scales its pods (an HPA on Kubernetes).
     */
    private Revision placed(io.capstan.backend.PredictorPlacement placement, ResourceKey key, RevisionRecord record, InferenceServiceSpec spec,
                            MeterRegistry meters) throws ModelLoadException {
        if (spec.transformer() != null) throw new ModelLoadException("spec.transformer: transformers run in this process only; not on this backend yet");
        var placedSpec = record.spec();
        var model = spec.predictor().model();
        if (model != null && model.storageUri() != null) {
            // a model-registry:// URI is resolved here, as for an in-process model; the pod gets what it resolved to
            var resolved = resolvedUri(key, record, model.storageUri());
            if (!resolved.equals(model.storageUri())) {
                placedSpec = placedSpec.deepCopy();
                ((ObjectNode) placedSpec.path("predictor").path(model.shorthand() == null ? "model" : model.shorthand())).put("storageUri", resolved);
            }
        }
        java.util.Optional<java.net.InetSocketAddress> address;
        try {
            address = placement.place(key.namespace(), key.name(), record.number(), placedSpec);
        } catch (IllegalStateException | io.capstan.core.InvalidSpecException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        if (address.isEmpty()) throw new PredictorStarting(record.name() + " is starting");
        var defaults = settings(spec.predictor(), record.annotations());
        var settings = new RevisionSettings(1, 1, defaults.scaleMetric(), defaults.scaleTarget(), defaults.concurrencyPerReplica(),
                defaults.queueLimit(), defaults.timeout(), defaults.idleBeforeScaleToZero(), defaults.maxBatchSize(), defaults.maxBatchLatency());
        var at = address.get();
        return new Revision(key.namespace(), key.name(), record.number(),
                () -> io.capstan.serving.python.ProcessModel.remote(at, key.name(), "kserve-predictor", defaults.timeout()), settings, meters, clock);
    }

    /**
     * What each predictor replica takes from the namespace's quota: one pod plus the model's declared resources (a
     * custom container is charged its pod and the predictor's own {@code resources}). Refused at once when even one
     * replica could never fit.
     */
    private ReplicaQuota replicaQuota(ResourceKey key, RevisionRecord record, InferenceServiceSpec.PredictorSpec predictor)
            throws ModelLoadException {
        io.capstan.core.quota.QuotaUsage perReplica;
        try {
            perReplica = ReplicaQuota.usageOf(record.spec(), predictor.model() != null ? predictor.model().path() : "spec.predictor");
        } catch (io.capstan.core.InvalidSpecException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
        var quota = new ReplicaQuota(quotas, key.namespace(), perReplica);
        var never = quota.neverFits(key.name());
        if (never.isPresent()) throw new ModelLoadException("exceeded quota: " + never.get());
        return quota;
    }

    /**
     * How one component's replicas load: its model by a runtime, or its container as a model-server process.
     *
     * @param predictorHost the transformer's {@code --predictor_host}; null for a predictor
     */
    private Revision.Loader loader(ResourceKey key, RevisionRecord record, InferenceServiceSpec.PredictorSpec predictor,
                                   String predictorHost) throws ModelLoadException {
        if (predictor.model() == null) return containerLoader(key, record, predictor, predictorHost);
        var model = predictor.model();
        var choice = selection.choose(key.namespace(), model, ContainerPlacement.execution(record.annotations()));
        Path path;
        var predictorNode = record.spec().path("predictor");
        if (model.storageUri() == null && !predictorNode.path("model").path("storage").has("key")) {
            if (!choice.implementation().name().equals(io.capstan.serving.runtime.JavaModelRuntime.NAME)) {
                // KServe's multi-model serving: the predictor hosts TrainedModels, each served under its own name
                return () -> new MultiModelHost(key.name(), model.format());
            }
            path = emptyModelDir;
        } else {
            var storageUri = resolvedUri(key, record, model.storageUri());
            var location = StorageCredentials.locate(store, key.namespace(), predictorNode, storageUri);
            path = storage.fetch(location.storageUri(), location.access());
        }
        var source = new ModelSource(key.name(), path, model.format(), modelEnv(record, model));
        var runtime = choice.implementation();
        return () -> runtime.load(source);
    }

    /** Sets what reads storage URIs of schemes the model storage does not, such as {@code model-registry://}. */
    /** The share of the baseline cohort's requests mirrored to the canary for the rollout's agreement check; 0 without one. */
    private static int mirrorPercent(Resource isvc) {
        var text = isvc.metadata().annotations().get(RolloutSpec.ANNOTATION);
        if (text == null) return 0;
        return RolloutSpec.parse(text, new Problems()).flatMap(s -> s.checks().stream()
                .filter(c -> c.kind() == RolloutSpec.Kind.AGREEMENT).findFirst()).map(c -> (int) c.share()).orElse(0);
    }

    /** Holds canary rollouts (see {@link RolloutSpec}) while {@code freeze} gives a reason. */
    public void setRolloutFreeze(io.capstan.serving.api.RolloutFreeze freeze) {
        rollouts.freeze(freeze);
    }

    /** Where canaries' inputs find their training reference (see {@link io.capstan.serving.api.CanaryInputReference}). */
    public void setCanaryInputReference(io.capstan.serving.api.CanaryInputReference reference) {
        rollouts.inputReference(reference);
    }

    public void setStorageUriResolver(io.capstan.serving.api.StorageUriResolver resolver) {
        this.uriResolver = resolver;
    }

    /** {@code storageUri}, or what the resolver made of it when the revision first loaded (the same for every replica). */
    private String resolvedUri(ResourceKey key, RevisionRecord record, String storageUri) throws ModelLoadException {
        var resolver = uriResolver;
        if (storageUri == null || resolver == null || !resolver.handles(storageUri)) return storageUri;
        var id = key.namespace() + "/" + key.name() + "/" + record.name();
        var known = resolved.get(id);
        if (known != null) return known.storageUri();
        try {
            var resolution = resolver.resolve(key.namespace(), storageUri);
            resolved.put(id, resolution);
            return resolution.storageUri();
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException("cannot resolve " + OipSafe.printable(storageUri) + ": " + e.getMessage(), e);
        }
    }

    /** The literal {@code env} of the model's container ({@code spec.predictor.sklearn.env}), as source parameters. */
    private static Map<String, String> modelEnv(RevisionRecord record, InferenceServiceSpec.ModelSpec model) {
        var node = record.spec().path("predictor").path(model.shorthand() == null ? "model" : model.shorthand()).path("env");
        var out = new HashMap<String, String>();
        if (!node.isArray()) return out;
        for (var item : node) {
            if (item.path("name").isTextual() && item.path("value").isValueNode() && !item.path("value").isNull()) {
                out.put(SklearnModelRuntime.ENV_PREFIX + item.get("name").asText(), item.get("value").asText());
            }
        }
        return out;
    }

    private Revision.Loader containerLoader(ResourceKey key, RevisionRecord record, InferenceServiceSpec.PredictorSpec component,
                                            String predictorHost) throws ModelLoadException {
        var container = component.container();
        if (container == null) throw new ModelLoadException(UnservableFormats.customContainer(component.customContainer()));
        boolean entrypoint = container.command().isEmpty();
        if (entrypoint && container.image() == null) {
            throw new ModelLoadException(container.path() + ": needs an image or a command that starts the model server");
        }
        Path modelDir = null;
        if (container.storageUri() != null) {
            var fetched = storage.fetch(container.storageUri());
            modelDir = Files.isDirectory(fetched) ? fetched : fetched.getParent();
        }
        var command = new ArrayList<String>(container.command());
        // with the image's entrypoint the list holds only its arguments: a placeholder stands for the entrypoint
        if (entrypoint) command.add("");
        command.addAll(container.args());
        setArgument(command, "--http_port", "{port}", true);
        String platform = "kserve-custom";
        if (predictorHost != null) {
            setArgument(command, "--predictor_host", predictorHost, true);
            setArgument(command, "--model_name", key.name(), false);
            platform = "kserve-transformer";
        }
        if (entrypoint) command.removeFirst();
        Path workingDir = container.workingDir() == null ? null : Path.of(container.workingDir());
        String component2 = predictorHost == null ? "predictor" : "transformer";
        var name = key.namespace() + "/" + key.name() + "-" + component2 + "-" + record.number();
        var written = new java.util.LinkedHashMap<String, String>();
        var env = containerEnv(key, record, component2, name, command, written);
        // in a container the secret and config-map files are seen at their mount paths and at the host paths the command
        // and env were rewritten to
        var secretMounts = new ArrayList<io.capstan.backend.ContainerOptions.Mount>();
        written.forEach((mountPath, folder) -> {
            secretMounts.add(new io.capstan.backend.ContainerOptions.Mount(Path.of(folder), folder, true));
            secretMounts.add(new io.capstan.backend.ContainerOptions.Mount(Path.of(folder), mountPath, true));
        });
        var options = ContainerPlacement.of(record.annotations(), record.spec().path(component2), "spec." + component2)
                .withMounts(secretMounts);
        var launch = new ModelProcesses.Launch(name, container.image(), command, env.isEmpty() ? container.env() : env, modelDir,
                key.name(), workingDir, options, entrypoint);
        var timeout = component.timeoutSeconds().filter(t -> t > 0).map(Duration::ofSeconds).orElse(RevisionSettings.defaults().timeout());
        var finalPlatform = platform;
        return () -> {
            try {
                return processes.start(launch, finalPlatform, timeout);
            } catch (ModelLoadException e) {
                // no command, and the image cannot run in a container here: the field to give is the command
                if (e.getCause() instanceof io.capstan.serving.python.EntrypointRefusedException refused) {
                    throw new ModelLoadException(container.path() + ".command: is required here: " + refused.getMessage(), refused);
                }
                throw e;
            }
        };
    }

    /**
     * The container's environment with its Secret and ConfigMap references resolved ({@code env[].valueFrom},
     * {@code envFrom}) and its secret and config-map volumes written to files (0600) under the work folder, their
     * mount paths rewritten in {@code command} and the environment; empty when it uses none. A missing reference fails
     * the revision, naming the secret and key.
     */
    private Map<String, String> containerEnv(ResourceKey key, RevisionRecord record, String component, String processName,
                                             List<String> command, Map<String, String> written) throws ModelLoadException {
        var node = record.spec().path(component).path("containers").path(0);
        var volumes = record.spec().path(component).path("volumes");
        if (!io.capstan.core.ConfigResolver.uses(node, volumes)) return Map.of();
        var configs = new io.capstan.core.ConfigResolver(io.capstan.core.ConfigResolver.Source.of(store::find));
        try {
            var resolved = configs.resolve("InferenceService " + key.namespace() + "/" + key.name() + ": ", key.namespace(), node, volumes,
                    new ArrayList<>());
            var mounts = resolved.writeMounts(volumesDir.resolve(processName.replace('/', '_')));
            written.putAll(mounts.map());
            command.replaceAll(mounts::apply);
            var env = new java.util.LinkedHashMap<>(resolved.env());
            node.path("env").forEach(item -> {
                if (item.path("name").isTextual() && item.has("value")) env.put(item.get("name").asText(), item.path("value").asText(""));
            });
            return mounts.applyToEnv(env);
        } catch (io.capstan.core.PermanentFailureException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    /**
     * Sets {@code --name=value} in a command: replaces the value of {@code --name value} or {@code --name=value} when
     * {@code replace}, else leaves one that is there; appends it when absent (as KServe's controller does for a
     * transformer's --model_name and --predictor_host).
     */
    static void setArgument(List<String> command, String name, String value, boolean replace) {
        for (int i = 1; i < command.size(); i++) {
            var part = command.get(i);
            if (part.equals(name) && i + 1 < command.size()) {
                if (replace) command.set(i + 1, value);
                return;
            }
            if (part.startsWith(name + "=")) {
                if (replace) command.set(i, name + "=" + value);
                return;
            }
        }
        if (replace && name.equals("--http_port")) return; // PORT in the environment says it; an argument could break a non-kserve program
        command.add(name + "=" + value);
    }

    private static RevisionSettings settings(InferenceServiceSpec.PredictorSpec p, ObjectNode annotations) {
        var defaults = RevisionSettings.defaults();
        int min = p.minReplicas().orElse(1);
        int max = p.maxReplicas().filter(m -> m > 0).orElse(Math.max(1, min));
        int perReplica = p.containerConcurrency().filter(c -> c > 0).orElse(defaults.concurrencyPerReplica());
        int target = p.scaleTarget().orElse(p.containerConcurrency().filter(c -> c > 0).orElse(defaults.scaleTarget()));
        String metric = p.scaleMetric().filter(m -> m.equals("rps")).orElse("concurrency");
        int queue = parseInt(annotations.path(QUEUE_LIMIT_ANNOTATION).asText(""), defaults.queueLimit());
        var idle = parseDuration(annotations.path(SCALE_TO_ZERO_ANNOTATION).asText(""), defaults.idleBeforeScaleToZero());
        var timeout = p.timeoutSeconds().filter(t -> t > 0).map(Duration::ofSeconds).orElse(defaults.timeout());
        int batch = p.batcher().map(InferenceServiceSpec.BatcherSpec::maxBatchSize).orElse(0);
        var latency = p.batcher().map(InferenceServiceSpec.BatcherSpec::maxLatency).orElse(defaults.maxBatchLatency());
        return new RevisionSettings(min, max, metric, target, perReplica, queue, timeout, idle, batch, latency);
    }

    private static int parseInt(String text, int fallback) {
        try {
            return text.isBlank() ? fallback : Math.max(0, Integer.parseInt(text.strip()));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Duration parseDuration(String text, Duration fallback) {
        if (text.isBlank()) return fallback;
        var problems = new Problems();
        var parsed = DurationText.parse(text, problems);
        return parsed.orElse(fallback);
    }

    /** The annotation's request limit in bytes; empty when it is absent or not a size from 1 byte to 1 GiB. */
    static java.util.OptionalInt maxRequestBytes(Resource isvc) {
        var value = isvc.metadata().annotations().get(InferenceHttpService.MAX_REQUEST_BYTES_ANNOTATION);
        var matcher = value == null ? null : SIZE.matcher(value.strip());
        if (matcher == null || !matcher.matches()) return java.util.OptionalInt.empty();
        long shift = switch (matcher.group(2) == null ? "" : matcher.group(2)) {
            case "Ki" -> 10;
            case "Mi" -> 20;
            case "Gi" -> 30;
            default -> 0;
        };
        long number = Long.parseLong(matcher.group(1));
        long bytes = number > InferenceHttpService.MAX_REQUEST_BYTES_CEILING ? -1 : number << shift;
        return bytes < 1 || bytes > InferenceHttpService.MAX_REQUEST_BYTES_CEILING
                ? java.util.OptionalInt.empty() : java.util.OptionalInt.of((int) bytes);
    }

    private static int annotationInt(Resource isvc, String name, int fallback, int min, int max) {
        var value = isvc.metadata().annotations().get(name);
        if (value == null) return fallback;
        try {
            return Math.max(min, Math.min(max, Integer.parseInt(value.strip())));
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static ObjectNode revisionAnnotations(Resource isvc) {
        var node = JsonNodeFactory.instance.objectNode();
        for (var name : REVISION_ANNOTATIONS) {
            var value = isvc.metadata().annotations().get(name);
            if (value != null) node.put(name, value);
        }
        return node;
    }

    /** What makes a new revision: the spec without the traffic split, plus the annotations that shape a revision. */
    static String specHash(Resource isvc) {
        var spec = isvc.spec();
        if (spec.get("predictor") instanceof ObjectNode predictor) predictor.remove("canaryTrafficPercent");
        var canonical = new TreeMap<String, Object>();
        canonical.put("spec", Json.json().convertValue(spec, Object.class));
        canonical.put("annotations", Json.json().convertValue(revisionAnnotations(isvc), Object.class));
        try {
            var bytes = Json.json().copy().configure(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
                    .writeValueAsString(canonical).getBytes(StandardCharsets.UTF_8);
            return ModelStorage.sha256Hex(bytes).substring(0, 16);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the revision's storage URI resolved to ({@code model-registry://...}), or null where it needed none. */
    private com.fasterxml.jackson.databind.JsonNode modelSource(ResourceKey key, RevisionRecord revision) {
        var r = resolved.get(key.namespace() + "/" + key.name() + "/" + revision.name());
        if (r == null) return null;
        var node = JsonNodeFactory.instance.objectNode();
        node.put("revisionName", revision.name());
        node.put("storageUri", r.storageUri());
        new TreeMap<>(r.source()).forEach(node::put);
        return node;
    }

    private static Integer rolledOut(Resource isvc) {
        return isvc.status().field("rolledOutRevision").filter(n -> n.isInt()).map(n -> n.asInt()).orElse(null);
    }

    private ResourceStatus status(Resource isvc, InferenceServiceSpec spec, List<RevisionRecord> records, Integer rolledOut,
                                  ServedModel model) {
        var now = clock.instant();
        var key = isvc.key();
        var f = JsonNodeFactory.instance;
        var latest = records.getLast();
        RevisionRecord latestReady = null;
        for (var r : records) if (r.state().equals(RevisionRecord.READY)) latestReady = r;
        var route = model.route();
        boolean ready = !route.targets().isEmpty();
        var url = trimmed(baseUrl.get()) + "/serving/" + key.namespace();

        var traffic = f.arrayNode();
        for (var t : route.targets()) {
            var entry = traffic.addObject().put("revisionName", RevisionRecord.nameOf(key.name(), t.revision().number()))
                    .put("percent", t.percent()).put("latestRevision", t.revision().number() == latest.number());
            if (t.cohort() != null) entry.put("tag", t.cohort().name().toLowerCase(java.util.Locale.ROOT));
        }
        var predictor = f.objectNode();
        predictor.put("latestCreatedRevision", latest.name());
        if (latestReady != null) predictor.put("latestReadyRevision", latestReady.name());
        if (rolledOut != null) predictor.put("previousRolledoutRevision", RevisionRecord.nameOf(key.name(), rolledOut));
        predictor.set("traffic", traffic);
        predictor.put("url", url + "/v2/models/" + key.name());
        if (route.shadow() != null) {
            predictor.putObject("shadow").put("revisionName", RevisionRecord.nameOf(key.name(), route.shadow().number()))
                    .put("percent", route.shadowPercent());
        }
        var components = f.objectNode();
        components.set("predictor", predictor);
        if (spec.hasTransformer()) {
            components.putObject("transformer").put("latestCreatedRevision", latest.name()).put("url", url + "/v1/models/" + key.name());
            if (latestReady != null) ((ObjectNode) components.get("transformer")).put("latestReadyRevision", latestReady.name());
        }

        var modelStatus = f.objectNode();
        var states = modelStatus.putObject("states");
        states.put("activeModelState", ready ? "Loaded" : latest.state().equals(RevisionRecord.FAILED) ? "FailedToLoad" : "Loading");
        states.put("targetModelState", latest.state().equals(RevisionRecord.READY) ? "Loaded"
                : latest.state().equals(RevisionRecord.FAILED) ? "FailedToLoad" : "Loading");
        modelStatus.put("transitionStatus", latest.state().equals(RevisionRecord.READY) ? "UpToDate"
                : latest.state().equals(RevisionRecord.FAILED) ? "BlockedByFailedLoad" : "InProgress");
        if (latest.state().equals(RevisionRecord.FAILED)) {
            modelStatus.putObject("lastFailureInfo").put("reason", "ModelLoadFailed").put("message", latest.reason());
        }

        var warnings = f.arrayNode();
        spec.warnings().forEach(warnings::add);
        var limit = isvc.metadata().annotations().get(InferenceHttpService.MAX_REQUEST_BYTES_ANNOTATION);
        if (limit != null && maxRequestBytes(isvc).isEmpty()) {
            warnings.add("metadata.annotations[" + InferenceHttpService.MAX_REQUEST_BYTES_ANNOTATION + "]: '"
                    + io.capstan.core.Names.printable(limit) + "' is not a size between 1 and 1Gi, such as 33554432 or 32Mi;"
                    + " the default of " + InferenceHttpService.DEFAULT_MAX_BODY_BYTES + " bytes applies");
        }

        String phase = latest.state().equals(RevisionRecord.FAILED) ? (ready ? "Degraded" : "Failed") : ready
                && latest.state().equals(RevisionRecord.READY) ? "Ready" : "Loading";
        var latestReadyCondition = latest.state().equals(RevisionRecord.FAILED)
                ? io.capstan.core.Condition.isFalse("LatestDeploymentReady", "RevisionFailed", latest.name() + ": " + latest.reason(), now)
                : latest.state().equals(RevisionRecord.READY)
                ? io.capstan.core.Condition.isTrue("LatestDeploymentReady", "RevisionReady", latest.name(), now)
                : io.capstan.core.Condition.isFalse("LatestDeploymentReady", "RevisionLoading", latest.name(), now);
        String readyReason = ready ? (latest.state().equals(RevisionRecord.FAILED) ? "PreviousRevisionServing" : "RevisionServing")
                : latest.state().equals(RevisionRecord.FAILED) ? "RevisionFailed" : "Loading";
        String readyMessage = latest.state().equals(RevisionRecord.FAILED) ? latest.name() + " failed: " + latest.reason() : "";
        var status = isvc.status()
                .withPhase(phase)
                .withObservedGeneration(isvc.metadata().generation())
                .withField("url", TextNode.valueOf(url))
                .withField("address", f.objectNode().put("url", url))
                .withField("components", components)
                .withField("modelStatus", modelStatus)
                .withField("revisions", RevisionRecord.toJson(records))
                .withField("warnings", warnings)
                .withCondition("PredictorReady", ready, readyReason, readyMessage, now)
                .withCondition("Ready", ready, readyReason, readyMessage, now)
                .withCondition(latestReadyCondition);
        var source = modelSource(key, latestReady != null ? latestReady : latest);
        if (source != null) status = status.withField("modelSource", source);
        if (spec.hasTransformer()) {
            // the latest revision has the transformer: it is ready when that revision serves
            boolean transformerReady = ready && latest.state().equals(RevisionRecord.READY);
            String reason = transformerReady ? "RevisionServing" : latest.state().equals(RevisionRecord.FAILED) ? "RevisionFailed" : "Loading";
            status = status.withCondition("TransformerReady", transformerReady, reason,
                    latest.state().equals(RevisionRecord.FAILED) ? latest.name() + " failed: " + latest.reason() : "", now);
        } else {
            status = component(status, "TransformerReady", false, "spec.transformer", spec, now);
        }
        status = component(status, "ExplainerReady", spec.hasExplainer(), "spec.explainer", spec, now);
        if (rolledOut != null) status = status.withField("rolledOutRevision", com.fasterxml.jackson.databind.node.IntNode.valueOf(rolledOut));
        return status;
    }

    /**
     * The condition of a component Capstan does not run: False with the reason while the spec has it; True once it is
     * removed (a status that never had the component gets no condition, as in KServe).
     */
    private static ResourceStatus component(ResourceStatus status, String type, boolean present, String field,
                                            InferenceServiceSpec spec, java.time.Instant now) {
        if (present) {
            var reason = spec.unsupportedComponents().stream().filter(r -> r.startsWith(field + ":")).findFirst().orElse(field);
            return status.withCondition(type, false, "NotSupported", reason, now);
        }
        if (status.condition(type).isEmpty()) return status;
        return status.withCondition(type, true, "NotConfigured", field + " is not set", now);
    }

    private Resource writeStatus(Resource isvc, ResourceStatus status) {
        if (sameJson(status, isvc.status())) return isvc;
        return store.updateStatus(isvc.key(), "", status);
    }

    /** Compares as stored: numbers read back from the database may be other node types than those written. */
    private static boolean sameJson(ResourceStatus a, ResourceStatus b) {
        try {
            return Json.json().writeValueAsString(a).equals(Json.json().writeValueAsString(b));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return false;
        }
    }

    /** The live revisions of a service, for tests and diagnostics. */
    public Map<Integer, Revision> revisions(ResourceKey key) {
        return Map.copyOf(live.getOrDefault(key, new HashMap<>()));
    }

    static String trimmed(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
