package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.search.Intermediate;
import io.capstan.search.TrialState;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.capstan.core.security.WorkloadCredentials;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs Katib Experiments: asks the search algorithm for trials, creates them as {@code Trial} resources owned by the
 * experiment, runs each on the backend, collects its metrics, stops laggards early, and keeps the experiment's
 * status (counts per trial state, the best trial, Katib's conditions) until the goal is reached or the budget is
 * spent.
 *
 * <p>Everything it knows lives in the store: trials are listed on every reconcile and the search algorithms are
 * stateless over that history, so a restarted server continues where the last one stopped. A trial is created
 * (durable) before it is launched, its workload id is recorded before the launch, and a finished trial is never
 * launched again. The reconciler writes the status of its experiments and of the trials they own, and nothing else.
 *
 * <p>Thread-safe: the controller runtime never reconciles one experiment twice at once, and the only shared state
 * is the workload-to-experiment cache behind {@link #findExperiment}.
 */
public final class ExperimentReconciler implements Reconciler {
    static final Duration POLL = Duration.ofMillis(300);
    private static final int MAX_CACHED_TRIALS = 4096;

    private final ResourceStore store;
    private final TrialRunner runner;
    private final TrialFactory factory;
    private final Path workRoot;
    private final Clock clock;
    private final ExperimentSpecReader reader;
    private final SearchCatalog catalog;
    private final Backend backend;
    /** Trial uid to its experiment, for {@link #findExperiment}; only a cache. Guarded by {@link #cacheLock}. */
    private final Map<String, ResourceKey> experimentOfTrial = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ResourceKey> eldest) {
            return size() > MAX_CACHED_TRIALS;
        }
    };
    private final ReentrantLock cacheLock = new ReentrantLock();

    /**
     * @param workRoot where trial folders go: {@code <workRoot>/<namespace>/<experiment>/<trial>/}, and config-map
     *                 trial templates under {@code <workRoot>/trial-templates/<namespace>/<configMapName>/<templatePath>}
     */
    public ExperimentReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock) {
        this(store, backend, workRoot, clock, "", SearchCatalog.KATIB, WorkloadCredentials.none(), io.capstan.core.tracing.Traces.off());
    }

    /**
     * As {@link #ExperimentReconciler(ResourceStore, Backend, Path, Clock)}, giving each trial the URL of its
     * observation endpoint in {@code CAPSTAN_OBSERVATION_URL} and a token for it alone in {@code CAPSTAN_TOKEN}.
     *
     * @param apiBase the base {@link TrialApi} is mounted under, such as {@code http://127.0.0.1:8080/apis/capstan/v1}
     */
    public ExperimentReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock, URI apiBase,
                                WorkloadCredentials credentials) {
        this(store, backend, workRoot, clock, apiBase.toString(), SearchCatalog.KATIB, credentials, io.capstan.core.tracing.Traces.off());
    }

    /**
     * As the constructor above, with a span per trial from {@code tracer} (its experiment, parameters, phase and
     * metrics); the trial's process finds the span's context in {@code TRACEPARENT}.
     */
    public ExperimentReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock, URI apiBase,
                                WorkloadCredentials credentials, io.opentelemetry.api.trace.Tracer tracer) {
        this(store, backend, workRoot, clock, apiBase.toString(), SearchCatalog.KATIB, credentials, tracer);
    }

    ExperimentReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock, String apiBase, SearchCatalog catalog) {
        this(store, backend, workRoot, clock, apiBase, catalog, WorkloadCredentials.none(), io.capstan.core.tracing.Traces.off());
    }

    ExperimentReconciler(ResourceStore store, Backend backend, Path workRoot, Clock clock, String apiBase,
                         SearchCatalog catalog, WorkloadCredentials credentials, io.opentelemetry.api.trace.Tracer tracer) {
        this.store = Objects.requireNonNull(store, "store");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.workRoot = Objects.requireNonNull(workRoot, "workRoot");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.reader = new ExperimentSpecReader(catalog);
        this.runner = new TrialRunner(store, backend, workRoot, clock, apiBase, credentials, tracer);
        this.factory = new TrialFactory(store, workRoot);
    }

    @Override
    public String kind() {
        return Experiments.EXPERIMENT;
    }

    /**
     * The experiment whose trial runs as {@code workloadId}, for the backend's on-finish hook to wake it at once
     * rather than at its next poll. Empty for other workloads and for trials this reconciler has not seen since it
     * started (the periodic poll finds those). Does not block and does not call the backend.
     */
    public Optional<ResourceKey> findExperiment(String workloadId) {
        Objects.requireNonNull(workloadId, "workloadId");
        var uid = Experiments.trialUidOf(workloadId);
        if (uid.isEmpty()) return Optional.empty();
        cacheLock.lock();
        try {
            return Optional.ofNullable(experimentOfTrial.get(uid.get()));
        } finally {
            cacheLock.unlock();
        }
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            deleteTrialsOf(key);
            return Result.done();
        }
        var experiment = found.get();
        var status = experiment.status();
        var phase = ExperimentPhase.ofStatus(status.phase());
        ExperimentSpec spec;
        try {
            spec = reader.read(experiment.spec());
        } catch (InvalidSpecException e) {
            return finish(experiment, status, ExperimentPhase.Failed, "ExperimentInvalid", e.getMessage());
        }
        var trials = trialsOf(experiment);
        remember(key, trials);
        boolean resumable = spec.resumePolicy() != ExperimentSpec.ResumePolicy.NEVER
                && experiment.metadata().generation() != status.observedGeneration();
        if (phase.isTerminal() && !resumable) {
            trials.stream().filter(t -> TrialPhase.ofStatus(t.status().phase()).isTerminal()).forEach(runner::cancelIfRunning);
            return Result.done();
        }
        var refusal = refusal(spec);
        if (refusal.isPresent()) return finish(experiment, status, ExperimentPhase.Failed, refusal.get().reason(), refusal.get().message());

        var now = clock.instant();
        if (status.condition("Created").isEmpty()) {
            status = status.withCondition("Created", true, "ExperimentCreated", "Experiment is created", now)
                    .withPhase(ExperimentPhase.Created.name())
                    .withField("startTime", TextNode.valueOf(now.toString()));
        }
        var warnings = warnings(spec);
        if (!warnings.isEmpty()) {
            var arr = JsonNodeFactory.instance.arrayNode();
            warnings.forEach(arr::add);
            status = status.withField("warnings", arr);
        }
        var stepped = new ArrayList<Resource>(trials.size());
        for (var t : trials) stepped.add(runner.step(experiment, spec, t));
        stepped = new ArrayList<>(stopLaggards(spec, stepped));

        var counts = TrialCounts.of(stepped, spec.objective());
        var done = refusedForQuota(stepped);
        if (done.isEmpty()) done = completion(spec, counts);
        if (done.isEmpty()) {
            int active = counts.active();
            int budget = spec.maxTrialCount().isPresent() ? spec.maxTrialCount().getAsInt() - stepped.size() : Integer.MAX_VALUE;
            int wanted = Math.min(spec.parallelTrialCount() - active, budget);
            if (wanted > 0) {
                var template = factory.template(experiment, spec);
                if (template.isEmpty()) {
                    return finish(experiment, status, ExperimentPhase.Failed, "TrialTemplateNotFound",
                            "config map trial template not found; put it at " + factory.templatePath(experiment, spec));
                }
                var suggestions = catalog.create(spec.algorithm().name(), spec.algorithm().settings(), spec.space())
                        .suggest(spec.space(), history(stepped, spec.objective()), wanted);
                if (suggestions.isEmpty() && active == 0) {
                    done = Optional.of(new Verdict("ExperimentSuggestionEndReached", "the search algorithm has no more trials to suggest"));
                }
                int next = TrialFactory.nextIndex(experiment, stepped);
                for (var s : suggestions) {
                    stepped.add(factory.create(experiment, spec, template.get(), s, next++));
                }
                counts = TrialCounts.of(stepped, spec.objective());
            }
        }
        remember(key, stepped);
        var next = counts.writeTo(status, spec.objective());
        var quotaWait = done.isPresent() ? Optional.<String>empty() : quotaWait(stepped);
        next = quotaWait.isPresent() ? QuotaCondition.waiting(next, quotaWait.get(), now) : QuotaCondition.cleared(next, now);
        if (done.isPresent()) {
            for (var t : stepped) {
                if (!TrialPhase.ofStatus(t.status().phase()).isTerminal()) runner.kill(t, "experiment finished: " + done.get().message());
            }
            next = TrialCounts.of(trialsOf(experiment), spec.objective()).writeTo(next, spec.objective());
            var failed = done.get().reason().equals("ExperimentMaxFailedTrialsReached") || done.get().reason().equals(QuotaCondition.EXCEEDED);
            return finish(experiment, next, failed ? ExperimentPhase.Failed : ExperimentPhase.Succeeded, done.get().reason(), done.get().message());
        }
        var wasTerminal = phase.isTerminal();
        next = next.withPhase(wasTerminal ? ExperimentPhase.Restarting.name() : ExperimentPhase.Running.name())
                .withObservedGeneration(experiment.metadata().generation())
                .withCondition("Running", true, wasTerminal ? "ExperimentRestarting" : "ExperimentRunning",
                        wasTerminal ? "Experiment is restarting" : "Experiment is running", now);
        if (wasTerminal) {
            next = next.withCondition("Succeeded", false, "ExperimentRestarting", "Experiment is restarting", now)
                    .withCondition("Failed", false, "ExperimentRestarting", "Experiment is restarting", now);
        }
        write(experiment, next);
        return Result.requeueAfter(POLL);
    }

    private static Optional<Verdict> refusal(ExperimentSpec spec) {
        var collector = spec.collector().kind().refusal();
        if (collector.isPresent()) return Optional.of(new Verdict("MetricsCollectorUnsupported", collector.get()));
        var trialSpec = spec.trialTemplate().trialSpec();
        if (trialSpec.isPresent() && !TrialJobs.isRunnable(trialSpec.get())) {
            // Admission refuses these; an experiment stored before that check still gets a reason.
            return Optional.of(new Verdict("TrialKindUnsupported", "trials of kind " + TrialCommand.kindOf(trialSpec.get())
                    + " cannot run here; a trial is a " + TrialJobs.SUPPORTED));
        }
        return Optional.empty();
    }

    /** Fields accepted but honoured differently locally: reported, never silently dropped. */
    private static List<String> warnings(ExperimentSpec spec) {
        var out = new ArrayList<String>();
        var template = spec.trialTemplate();
        if (!template.successCondition().equals(TrialTemplate.DEFAULT_SUCCESS) || !template.failureCondition().equals(TrialTemplate.DEFAULT_FAILURE)) {
            out.add("successCondition and failureCondition are judged locally: a Job trial by its exit code (0 succeeds), as Katib's defaults for a Job,"
                    + " and a training-job trial by the job's Succeeded or Failed phase");
        }
        if (spec.resumePolicy() == ExperimentSpec.ResumePolicy.FROM_VOLUME) {
            out.add("resumePolicy FromVolume: no volume is mounted locally; trial folders stay under the work folder, so the experiment resumes as LongRunning");
        }
        return out;
    }

    /**
     * A trial refused because its requests can never fit the namespace's quota: the next trials, from the same
     * template, would be refused too, so the experiment fails at once with the trial's reason.
     */
    private static Optional<Verdict> refusedForQuota(List<Resource> trials) {
        return trials.stream().flatMap(t -> t.status().condition("Failed").stream())
                .filter(c -> c.status() == io.capstan.core.Condition.Status.True && c.reason().equals(QuotaCondition.EXCEEDED))
                .findFirst().map(c -> new Verdict(QuotaCondition.EXCEEDED, c.message()));
    }

    /** Why the first trial that waits for its namespace's quota waits, if one does. */
    private static Optional<String> quotaWait(List<Resource> trials) {
        return trials.stream().filter(t -> !TrialPhase.ofStatus(t.status().phase()).isTerminal())
                .flatMap(t -> t.status().condition(QuotaCondition.TYPE).stream())
                .filter(c -> c.status() == io.capstan.core.Condition.Status.True)
                .map(io.capstan.core.Condition::message).findFirst();
    }

    /** Katib's order: too many failures first, then the goal, then the trial budget. */
    private static Optional<Verdict> completion(ExperimentSpec spec, TrialCounts counts) {
        if (spec.maxFailedTrialCount().isPresent() && counts.failed() > spec.maxFailedTrialCount().getAsInt()) {
            return Optional.of(new Verdict("ExperimentMaxFailedTrialsReached",
                    counts.failed() + " trials failed, more than maxFailedTrialCount " + spec.maxFailedTrialCount().getAsInt()));
        }
        if (counts.best().isPresent() && spec.objective().reachesGoal(counts.bestValue())) {
            return Optional.of(new Verdict("ExperimentGoalReached", "Experiment has succeeded because Objective goal has reached"));
        }
        if (spec.maxTrialCount().isPresent() && counts.finished() >= spec.maxTrialCount().getAsInt()) {
            return Optional.of(new Verdict("ExperimentMaxTrialsReached", "Experiment has succeeded because max trial count has reached"));
        }
        return Optional.empty();
    }

    private List<Resource> stopLaggards(ExperimentSpec spec, List<Resource> trials) {
        if (spec.earlyStopping().isEmpty()) return trials;
        var rule = catalog.earlyStopping(spec.earlyStopping().get().name(), spec.earlyStopping().get().settings());
        var history = history(trials, spec.objective());
        var out = new ArrayList<Resource>(trials.size());
        for (int i = 0; i < trials.size(); i++) {
            var t = trials.get(i);
            var requested = t.status().field("earlyStopRequested").map(n -> n.asBoolean()).orElse(false);
            if (TrialPhase.ofStatus(t.status().phase()) == TrialPhase.Running && !requested && rule.shouldStop(history.get(i), history)) {
                out.add(runner.stopEarly(t));
            } else {
                out.add(t);
            }
        }
        return out;
    }

    /** The trials as the algorithms see them, in creation order, with losses oriented lower-is-better. */
    static List<io.capstan.search.Trial> history(List<Resource> trials, Objective objective) {
        var out = new ArrayList<io.capstan.search.Trial>(trials.size());
        for (var t : trials) {
            var spec = TrialSpec.of(t.spec());
            var observations = TrialRunner.observationsOf(t);
            var phase = TrialPhase.ofStatus(t.status().phase());
            var state = switch (phase) {
                case Created, Running -> TrialState.RUNNING;
                case Succeeded -> TrialState.SUCCEEDED;
                case EarlyStopped -> TrialState.EARLY_STOPPED;
                case Failed, MetricsUnavailable, Killed -> TrialState.FAILED;
            };
            var value = TrialObservations.objectiveValue(observations, objective);
            var loss = state == TrialState.SUCCEEDED && value.isPresent() ? OptionalDouble.of(objective.loss(value.getAsDouble())) : OptionalDouble.empty();
            var intermediates = observations.stream().filter(o -> o.metric().equals(objective.metricName()))
                    .map(o -> new Intermediate(o.step(), objective.loss(o.value()))).toList();
            out.add(new io.capstan.search.Trial(t.metadata().name(), spec.assignment(), state, loss, intermediates, spec.suggestionLabels()));
        }
        return out;
    }

    /** The experiment's trials, oldest first: those labelled with its name and owned by this very experiment. */
    private List<Resource> trialsOf(Resource experiment) {
        var uid = experiment.metadata().uid();
        var ours = new ArrayList<Resource>();
        for (var t : listLabelled(experiment.metadata().namespace(), experiment.metadata().name())) {
            if (t.metadata().ownerReferences().stream().anyMatch(o -> o.uid().equals(uid))) {
                ours.add(t);
            } else {
                // Left by an earlier experiment of the same name, deleted while no server ran: collect it, as
                // Kubernetes' garbage collector would, so that its name is free again.
                runner.cancelIfRunning(t);
                runner.deleteJob(t);
                store.delete(t.key());
            }
        }
        ours.sort(Comparator.comparing((Resource t) -> t.metadata().created().orElse(java.time.Instant.EPOCH))
                .thenComparing(t -> t.metadata().name().length()).thenComparing(t -> t.metadata().name()));
        return ours;
    }

    private List<Resource> listLabelled(String namespace, String experiment) {
        var selector = new LabelSelector(List.of(new LabelSelector.Requirement(Experiments.EXPERIMENT_LABEL, LabelSelector.Operator.IN, Set.of(experiment))));
        var out = new ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(Experiments.TRIAL, Optional.of(namespace), selector, ListQuery.MAX_LIMIT, token));
            out.addAll(page.items());
            token = page.continueToken();
        } while (token.isPresent());
        return out;
    }

    /** As Kubernetes' garbage collector would: a deleted experiment takes its trials and their workloads along. */
    private void deleteTrialsOf(ResourceKey key) {
        for (var t : listLabelled(key.namespace(), key.name())) {
            runner.cancelIfRunning(t);
            runner.deleteJob(t);
            store.delete(t.key());
        }
        reapOrphanJobs(key);
        reapOrphanWorkloads();
    }

    /**
     * Deletes the training jobs created by trials of the deleted experiment whose trial is gone (deleted while the
     * job was being created, or by hand): Kubernetes' garbage collector would, following their owner reference.
     */
    private void reapOrphanJobs(ResourceKey experiment) {
        var selector = new LabelSelector(List.of(new LabelSelector.Requirement(Experiments.EXPERIMENT_LABEL, LabelSelector.Operator.IN, Set.of(experiment.name()))));
        var liveTrials = store.uids(Experiments.TRIAL);
        for (var kind : TrialJobs.Kind.values()) {
            Optional<String> token = Optional.empty();
            do {
                var page = store.list(new ListQuery(kind.kind, Optional.of(experiment.namespace()), selector, ListQuery.MAX_LIMIT, token));
                for (var job : page.items()) {
                    boolean ownedByGoneTrial = job.metadata().ownerReferences().stream()
                            .anyMatch(o -> o.kind().equals(Experiments.TRIAL) && !liveTrials.contains(o.uid()));
                    if (ownedByGoneTrial) store.delete(job.key());
                }
                token = page.continueToken();
            } while (token.isPresent());
        }
    }

    /**
     * Cancels, then forgets, workloads whose trial no longer exists. The workloads are listed before the trials, so a
     * workload launched meanwhile by another experiment's reconcile always finds its trial (created before its launch).
     */
    private void reapOrphanWorkloads() {
        var workloads = backend.list();
        var liveTrials = store.uids(Experiments.TRIAL);
        for (var w : workloads) {
            var owner = Experiments.trialUidOf(w.id());
            if (owner.isEmpty() || liveTrials.contains(owner.get())) continue;
            if (w.phase().isTerminal()) backend.remove(w.id());
            else backend.cancel(w.id());
        }
    }

    private void remember(ResourceKey key, List<Resource> trials) {
        cacheLock.lock();
        try {
            trials.forEach(t -> experimentOfTrial.put(t.metadata().uid(), key));
        } finally {
            cacheLock.unlock();
        }
    }

    private Result finish(Resource experiment, ResourceStatus status, ExperimentPhase phase, String reason, String message) {
        var now = clock.instant();
        var next = status.withPhase(phase.name()).withObservedGeneration(experiment.metadata().generation());
        if (next.condition("Created").isEmpty()) next = next.withCondition("Created", true, "ExperimentCreated", "Experiment is created", now);
        if (next.field("completionTime").isEmpty()) next = next.withField("completionTime", TextNode.valueOf(now.toString()));
        next = next.withCondition("Running", false, reason, message, now)
                .withCondition(phase.name(), true, reason, message, now);
        var other = phase == ExperimentPhase.Succeeded ? "Failed" : "Succeeded";
        if (next.condition(other).isPresent()) next = next.withCondition(other, false, reason, message, now);
        write(experiment, next);
        return Result.done();
    }

    private void write(Resource experiment, ResourceStatus next) {
        if (!next.equals(experiment.status())) store.updateStatus(experiment.key(), experiment.metadata().resourceVersion(), next);
    }

    /** Why an experiment ends: a Katib condition reason and a sentence. */
    record Verdict(String reason, String message) {
    }

}