package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.backend.ContainerOptions;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.ConfigResolver;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceKey;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import io.capstan.core.TransientException;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.store.ResourceStore;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.core.security.WorkloadScope;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;

/**
 * Runs one trial on the backend and mirrors its workload into the trial's status: launch, observe, collect metrics,
 * decide the outcome. A trial whose trialSpec is a training job (see {@link TrialJobs}) is not launched here: the
 * trial records the job in {@code status.jobRef}, creates it as a resource owned by the trial, and mirrors the job's
 * phase, reading metrics from the log of the job's primary workload; the training controller runs it. Durable before acting: the workload id is written before the launch (launch is idempotent on
 * it), and an early stop is recorded before the cancel, so that a crash at any point neither loses nor re-runs a
 * trial. A terminal trial is never touched again.
 */
final class TrialRunner {
    static final int MAX_LOG_LINES = 100_000;
    static final long MAX_METRICS_FILE_BYTES = 16L << 20;
    static final int LOG_TAIL_LINES = 20;
    /** Kubernetes' default {@code backoffLimit} of a Job, used for a trial's Job that sets none. */
    static final int DEFAULT_BACKOFF_LIMIT = 6;

    /** The trial folder's sub-folder that holds its secret and config-map volumes. */
    static final String VOLUMES = ".volumes";
    private final ResourceStore store;
    private final ConfigResolver configs;
    private final Backend backend;
    private final Path workRoot;
    private final Clock clock;
    /** Base of the observation API, such as {@code http://127.0.0.1:8080/apis/capstan/v1}; empty when not served. */
    private final String observationBaseUrl;
    private final WorkloadCredentials credentials;
    private final TrialSpans spans;

    TrialRunner(ResourceStore store, Backend backend, Path workRoot, Clock clock, String observationBaseUrl,
                WorkloadCredentials credentials) {
        this(store, backend, workRoot, clock, observationBaseUrl, credentials, io.capstan.core.tracing.Traces.off());
    }

    TrialRunner(ResourceStore store, Backend backend, Path workRoot, Clock clock, String observationBaseUrl,
                WorkloadCredentials credentials, io.opentelemetry.api.trace.Tracer tracer) {
        this.spans = new TrialSpans(tracer);
        this.credentials = java.util.Objects.requireNonNull(credentials, "credentials");
        this.store = store;
        this.configs = new ConfigResolver(ConfigResolver.Source.of(store::find));
        this.backend = backend;
        this.workRoot = workRoot;
        this.clock = clock;
        this.observationBaseUrl = observationBaseUrl;
    }

    /** Moves the trial one step on; returns it as stored afterwards. */
    Resource step(Resource experiment, ExperimentSpec spec, Resource trial) {
        var status = trial.status();
        if (TrialPhase.ofStatus(status.phase()).isTerminal()) return trial;
        var runSpec = TrialSpec.of(trial.spec()).runSpec();
        if (!TrialCommand.isBatchJob(runSpec)) return stepJob(experiment, spec, trial, runSpec);
        var id = status.field("workloadId").map(n -> n.asText());
        if (id.isEmpty()) return launch(experiment, spec, trial);
        var state = backend.find(id.get());
        if (state.isEmpty()) {
            // The id was recorded but the launch never happened, or the backend lost its folder: launch is idempotent.
            try {
                backend.launch(spans.launching(trial, workload(experiment, spec, trial, id.get())));
            } catch (InvalidSpecException e) {
                return write(trial, finished(status, TrialPhase.Failed, "TrialSpecInvalid", e.getMessage()));
            } catch (ConfigResolver.ConfigReferenceException e) {
                return write(trial, finished(status, TrialPhase.Failed, "CreateContainerConfigError", e.getMessage()));
            }
            return trial;
        }
        return observe(spec, trial, state.get());
    }

    private Resource launch(Resource experiment, ExperimentSpec spec, Resource trial) {
        var id = Experiments.workloadId(trial.metadata().uid());
        WorkloadSpec workload;
        List<String> warnings;
        try {
            var command = TrialCommand.of(TrialSpec.of(trial.spec()).runSpec(), spec.trialTemplate().primaryContainerName());
            warnings = command.warnings();
            workload = workload(experiment, spec, trial, id);
        } catch (InvalidSpecException e) {
            return write(trial, finished(trial.status(), TrialPhase.Failed, "TrialSpecInvalid", e.getMessage()));
        } catch (ConfigResolver.ConfigReferenceException e) {
            return write(trial, finished(trial.status(), TrialPhase.Failed, "CreateContainerConfigError", e.getMessage()));
        }
        var now = clock.instant();
        var next = trial.status().withPhase(TrialPhase.Created.name())
                .withObservedGeneration(trial.metadata().generation())
                .withField("workloadId", TextNode.valueOf(id))
                .withCondition("Created", true, "TrialCreated", "Trial is created", now);
        if (!warnings.isEmpty()) {
            var arr = JsonNodeFactory.instance.arrayNode();
            warnings.forEach(arr::add);
            next = next.withField("warnings", arr);
        }
        if (workload.image().isPresent()) next = next.withField("image", TextNode.valueOf(workload.image().get()));
        var overQuota = backend.neverFitsQuota(trial.metadata().namespace(), workload.requests(), 1, "each trial of Experiment " + experiment.metadata().name());
        if (overQuota.isPresent()) return write(trial, finished(next, TrialPhase.Failed, QuotaCondition.EXCEEDED, overQuota.get()));
        var stored = write(trial, next);
        backend.launch(spans.launching(trial, workload));
        return stored;
    }

    private Resource observe(ExperimentSpec spec, Resource trial, WorkloadState state) {
        var status = trial.status();
        var now = clock.instant();
        ResourceStatus next;
        switch (state.phase()) {
            case QUEUED -> next = state.quotaWait().isPresent()
                    ? QuotaCondition.waiting(status.withCondition("Running", false, QuotaCondition.EXCEEDED, state.quotaWait().get(), now), state.quotaWait().get(), now)
                    : status.withCondition("Running", false, "Queued", "waiting for CPU, memory or GPUs to free up", now);
            case RUNNING -> {
                next = withTime(status, "startTime", state.startedAt()).withPhase(TrialPhase.Running.name())
                        .withCondition("Running", true, "TrialRunning", "Trial is running", now);
                if (spec.earlyStopping().isPresent() && spec.collector().kind() != MetricsCollectorSpec.CollectorKind.PUSH) {
                    next = withObservations(next, spec, collect(spec, trial, state.id()));
                }
            }
            case LOST -> {
                var retry = retryLost(trial, state);
                if (retry.isPresent()) return write(trial, retry.get());
                next = outcome(spec, trial, state);
                removeVolumes(trial);
            }
            default -> {
                next = outcome(spec, trial, state);
                removeVolumes(trial);
            }
        }
        if (state.quotaWait().isEmpty()) next = QuotaCondition.cleared(next, now);
        return next.equals(status) ? trial : write(trial, next);
    }

    /**
     * A lost trial (its process vanished, or ran on a replica that is gone) runs again under a new workload id while
     * its Job's {@code backoffLimit} (6 when absent, as in Kubernetes) allows, as a Job's pod lost with its node would;
     * the new id is recorded before it is launched. Empty when the limit is reached.
     */
    private Optional<ResourceStatus> retryLost(Resource trial, WorkloadState state) {
        var runSpec = TrialSpec.of(trial.spec()).runSpec();
        var limit = runSpec.path("spec").path("backoffLimit");
        int backoffLimit = limit.canConvertToInt() ? Math.max(0, limit.asInt()) : DEFAULT_BACKOFF_LIMIT;
        var status = trial.status();
        int attempt = status.field("attempts").map(n -> n.asInt()).orElse(1);
        if (attempt > backoffLimit) return Optional.empty();
        var message = "attempt " + attempt + " " + state.message() + "; retrying";
        return Optional.of(status.withField("attempts", IntNode.valueOf(attempt + 1))
                .withField("workloadId", TextNode.valueOf(Experiments.workloadId(trial.metadata().uid(), attempt + 1)))
                .withField("message", TextNode.valueOf(message))
                .withCondition("Running", false, "TrialLost", message, clock.instant()));
    }

    private ResourceStatus outcome(ExperimentSpec spec, Resource trial, WorkloadState state) {
        var status = withTime(withTime(trial.status(), "startTime", state.startedAt()), "completionTime", state.finishedAt());
        if (state.exitCode().isPresent()) status = status.withField("exitCode", IntNode.valueOf(state.exitCode().get()));
        var observations = collect(spec, trial, state.id());
        status = withObservations(status, spec, observations);
        boolean stopRequested = status.field("earlyStopRequested").map(n -> n.asBoolean()).orElse(false);
        if (stopRequested && state.phase() != WorkloadPhase.SUCCEEDED) {
            return finished(status, TrialPhase.EarlyStopped, "TrialEarlyStopped", "Trial is early stopped: it fell behind the others");
        }
        return switch (state.phase()) {
            case SUCCEEDED -> {
                var metric = spec.objective().metricName();
                if (spec.collector().kind() != MetricsCollectorSpec.CollectorKind.NONE
                        && TrialObservations.objectiveValue(observations, spec.objective()).isEmpty()) {
                    yield finished(status, TrialPhase.MetricsUnavailable, "MetricsUnavailable",
                            "metric " + metric + " not found in trial output" + collectorHint(spec));
                }
                yield finished(status, TrialPhase.Succeeded, "TrialSucceeded", "Trial has succeeded");
            }
            case FAILED -> {
                var deadline = state.message().startsWith("killed after timeout");
                yield withLogTail(finished(status, TrialPhase.Failed, deadline ? "DeadlineExceeded" : "TrialFailed",
                        deadline ? "trial ran past its deadline: " + state.message() : "trial failed: " + state.message()), state.id());
            }
            case CANCELLED -> finished(status, TrialPhase.Killed, "TrialKilled", "trial was cancelled: " + state.message());
            case LOST -> finished(status, TrialPhase.Failed, "TrialLost", "trial process vanished while the server was down: " + state.message());
            case QUEUED, RUNNING -> throw new IllegalStateException("not finished: " + state.phase());
        };
    }

    private static String collectorHint(ExperimentSpec spec) {
        return switch (spec.collector().kind()) {
            case STDOUT -> " (expected lines such as '" + spec.objective().metricName() + "=0.5' on stdout)";
            case FILE -> " (expected in the metrics file " + spec.collector().path().orElse("") + ")";
            case PUSH -> " (nothing was pushed to $CAPSTAN_OBSERVATION_URL)";
            default -> "";
        };
    }

    /**
     * A trial whose trialSpec is a training job: records the job's key, creates the job (owned by the trial), then
     * mirrors the job's phase. The job's controller runs it; this never touches its workloads except to read logs.
     */
    private Resource stepJob(Resource experiment, ExperimentSpec spec, Resource trial, ObjectNode runSpec) {
        var status = trial.status();
        var kind = TrialJobs.Kind.of(runSpec);
        if (kind.isEmpty()) {
            return write(trial, finished(status, TrialPhase.Failed, "TrialSpecInvalid", "trials of kind " + TrialCommand.kindOf(runSpec)
                    + " cannot run here; a trial is a " + TrialJobs.SUPPORTED));
        }
        var key = TrialJobs.keyOf(trial, kind.get());
        var now = clock.instant();
        if (status.field("jobRef").isEmpty()) {
            var ref = JsonNodeFactory.instance.objectNode().put("apiVersion", runSpec.path("apiVersion").asText())
                    .put("kind", key.kind()).put("name", key.name()).put("namespace", key.namespace());
            var stored = write(trial, status.withPhase(TrialPhase.Created.name())
                    .withObservedGeneration(trial.metadata().generation())
                    .withField("jobRef", ref)
                    .withCondition("Created", true, "TrialCreated", "Trial is created", now));
            return createJob(experiment, spec, stored, runSpec);
        }
        var found = store.find(key);
        if (found.isEmpty()) {
            if (status.field("earlyStopRequested").map(n -> n.asBoolean()).orElse(false)) {
                return write(trial, finished(status, TrialPhase.EarlyStopped, "TrialEarlyStopped", "Trial is early stopped: it fell behind the others"));
            }
            if (status.field("jobUid").isPresent()) {
                return write(trial, finished(status, TrialPhase.Failed, "TrialResourceDeleted",
                        key.kind() + " " + key.name() + " was deleted before it finished"));
            }
            // Recorded, but the server stopped before creating it.
            return createJob(experiment, spec, trial, runSpec);
        }
        var job = found.get();
        if (!TrialJobs.isOwnedBy(job, trial)) {
            return write(trial, finished(status, TrialPhase.Failed, "TrialResourceConflict", key.kind() + " " + key.namespace() + "/" + key.name()
                    + " exists and does not belong to this trial; delete it and run the experiment again"));
        }
        if (status.field("jobUid").isEmpty()) status = status.withField("jobUid", TextNode.valueOf(job.metadata().uid()));
        var primary = TrialJobs.primary(job, spec.trialTemplate().primaryPodLabels()).map(TrialJobs.Member::workloadId)
                .filter(id -> backend.find(id).isPresent());
        ResourceStatus next;
        switch (job.status().phase()) {
            case TrialJobs.SUCCEEDED, TrialJobs.FAILED, TrialJobs.CANCELLED -> next = jobOutcome(spec, trial, status, job, primary);
            case "Running", "Restarting" -> {
                var started = job.status().field("startTime").map(n -> n.asText()).map(Instant::parse);
                next = withTime(status, "startTime", Optional.of(started.orElse(now))).withPhase(TrialPhase.Running.name())
                        .withCondition("Running", true, "TrialRunning", "Trial is running", now);
                var since = Instant.parse(next.field("startTime").orElseThrow().asText());
                if (spec.trialTimeout().isPresent() && !now.isBefore(since.plus(spec.trialTimeout().get()))) {
                    var collected = withObservations(next, spec, collect(spec, trial, primary));
                    store.delete(key);
                    return write(trial, finished(collected, TrialPhase.Failed, "DeadlineExceeded", "trial ran past its deadline of "
                            + spec.trialTimeout().get().toSeconds() + " s; " + key.kind() + " " + key.name() + " was deleted"));
                }
                if (spec.earlyStopping().isPresent() && spec.collector().kind() != MetricsCollectorSpec.CollectorKind.PUSH) {
                    next = withObservations(next, spec, collect(spec, trial, primary));
                }
            }
            default -> {
                var running = job.status().condition("Running");
                var reason = running.map(c -> c.reason()).filter(r -> !r.isEmpty()).orElse("JobCreated");
                var message = running.map(c -> c.message()).filter(m -> !m.isEmpty()).orElse(key.kind() + " " + key.name() + " is created");
                next = status.withCondition("Running", false, reason, message, now);
            }
        }
        return next.equals(trial.status()) ? trial : write(trial, next);
    }

    private Resource createJob(Resource experiment, ExperimentSpec spec, Resource trial, ObjectNode runSpec) {
        var dir = trialDir(trial);
        try {
            Files.createDirectories(dir.resolve("katib"));
        } catch (IOException e) {
            throw new TransientException("cannot create trial folder " + dir + ": " + e.getMessage(), e);
        }
        var rewrite = spec.collector().kind() == MetricsCollectorSpec.CollectorKind.FILE && spec.collector().path().isPresent();
        var original = spec.collector().path().orElse("");
        var local = metricsFile(trial, spec).toString();
        var env = new LinkedHashMap<String, String>();
        env.put("KATIB_TRIAL_NAME", trial.metadata().name());
        env.put("CAPSTAN_TRIAL_NAME", trial.metadata().name());
        env.put("CAPSTAN_TRIAL_NAMESPACE", trial.metadata().namespace());
        env.put("CAPSTAN_EXPERIMENT_NAME", experiment.metadata().name());
        env.put("CAPSTAN_TRIAL_DIR", dir.toString());
        if (rewrite) env.put("CAPSTAN_METRICS_FILE", local);
        if (!observationBaseUrl.isEmpty()) {
            env.put("CAPSTAN_OBSERVATION_URL", TrialApi.url(observationBaseUrl, trial.metadata().namespace(), trial.metadata().name()));
            var token = credentials.tokenFor(new WorkloadScope(trial.metadata().namespace(), WorkloadScope.TRIAL_OBSERVATIONS, trial.metadata().name()));
            if (!token.isEmpty()) env.put(WorkloadCredentials.ENV, token);
        }
        var job = TrialJobs.resourceFor(trial, runSpec, env, text -> rewrite ? text.replace(original, local) : text);
        Resource created;
        try {
            created = store.create(job);
        } catch (ConflictException e) {
            // Created by an earlier step whose status write was lost, or someone else's: the next step tells which.
            return trial;
        } catch (InvalidSpecException e) {
            return write(trial, finished(trial.status(), TrialPhase.Failed, "TrialSpecInvalid", e.getMessage()));
        }
        return write(trial, trial.status().withField("jobUid", TextNode.valueOf(created.metadata().uid())));
    }

    private ResourceStatus jobOutcome(ExperimentSpec spec, Resource trial, ResourceStatus status, Resource job, Optional<String> primary) {
        var js = job.status();
        status = withTime(status, "startTime", js.field("startTime").map(n -> Instant.parse(n.asText())));
        status = withTime(status, "completionTime", js.field("completionTime").map(n -> Instant.parse(n.asText())));
        var observations = collect(spec, trial, primary);
        status = withObservations(status, spec, observations);
        var name = job.kind() + " " + job.metadata().name();
        if (TrialJobs.isFailed(job)) {
            var failed = finished(status, TrialPhase.Failed, "TrialFailed", name + " failed: " + TrialJobs.failure(job));
            return primary.isPresent() ? withLogTail(failed, primary.get()) : failed;
        }
        if (spec.collector().kind() != MetricsCollectorSpec.CollectorKind.NONE && TrialObservations.objectiveValue(observations, spec.objective()).isEmpty()) {
            return finished(status, TrialPhase.MetricsUnavailable, "MetricsUnavailable", "metric " + spec.objective().metricName()
                    + " not found in trial output" + collectorHint(spec) + (spec.collector().kind() == MetricsCollectorSpec.CollectorKind.STDOUT
                    ? "; read from " + primary.orElse("no workload: the job listed none") : ""));
        }
        return finished(status, TrialPhase.Succeeded, "TrialSucceeded", "Trial has succeeded");
    }

    private List<Observation> collect(ExperimentSpec spec, Resource trial, Optional<String> primary) {
        if (primary.isEmpty() && spec.collector().kind() == MetricsCollectorSpec.CollectorKind.STDOUT) return List.of();
        return collect(spec, trial, primary.orElse(""));
    }

    /** Records the decision to stop the trial, then cancels it; the outcome is read once the workload ends. */
    Resource stopEarly(Resource trial) {
        var id = trial.status().field("workloadId").map(n -> n.asText());
        var stored = trial;
        if (!trial.status().field("earlyStopRequested").map(n -> n.asBoolean()).orElse(false)) {
            stored = write(trial, trial.status().withField("earlyStopRequested", BooleanNode.TRUE));
        }
        id.ifPresent(backend::cancel);
        jobKey(stored).ifPresent(store::delete);
        return stored;
    }

    /** The key of the job a training-job trial created (or is about to create); empty for batch/v1 Job trials. */
    static Optional<ResourceKey> jobKey(Resource trial) {
        return trial.status().field("jobRef").map(r -> new ResourceKey(r.path("kind").asText(), trial.metadata().namespace(), r.path("name").asText()));
    }

    /** Deletes the job the trial created, if it is still there and still the trial's: for a deleted trial. */
    void deleteJob(Resource trial) {
        var key = jobKey(trial);
        if (key.isEmpty()) return;
        store.find(key.get()).filter(j -> TrialJobs.isOwnedBy(j, trial)).ifPresent(j -> store.delete(j.key()));
    }

    /** Marks a trial that will not be waited for any more Killed, then cancels its workload. */
    Resource kill(Resource trial, String why) {
        var stored = write(trial, finished(trial.status(), TrialPhase.Killed, "TrialKilled", why));
        cancelIfRunning(stored);
        return stored;
    }

    /** Cancels the workload of a trial that is already finished in the store but may still run (after a crash). */
    void cancelIfRunning(Resource trial) {
        var key = jobKey(trial);
        if (key.isPresent()) {
            store.find(key.get()).filter(j -> TrialJobs.isOwnedBy(j, trial))
                    .filter(j -> !TrialJobs.isFinished(j))
                    .ifPresent(j -> store.delete(j.key()));
        }
        var id = trial.status().field("workloadId").map(n -> n.asText());
        if (id.isEmpty()) return;
        backend.find(id.get()).filter(s -> !s.phase().isTerminal()).ifPresent(s -> backend.cancel(s.id()));
    }

    /** Every observation stored in the trial's status, oldest first. */
    static List<Observation> observationsOf(Resource trial) {
        return TrialObservations.fromJson(trial.status().field("observations").orElse(null));
    }

    private ResourceStatus withObservations(ResourceStatus status, ExperimentSpec spec, List<Observation> observations) {
        if (spec.collector().kind() == MetricsCollectorSpec.CollectorKind.PUSH) {
            return status.withField("observation", TrialObservations.katibObservation(observations, spec.objective()));
        }
        if (observations.isEmpty() && status.field("observations").isEmpty()) return status;
        return status.withField("observations", TrialObservations.toJson(observations))
                .withField("observation", TrialObservations.katibObservation(observations, spec.objective()));
    }

    private List<Observation> collect(ExperimentSpec spec, Resource trial, String workloadId) {
        var metrics = new HashSet<>(spec.objective().allMetricNames());
        return switch (spec.collector().kind()) {
            case STDOUT -> MetricsParser.parseText(backend.tail(workloadId, MAX_LOG_LINES).stream()
                    .map(l -> new MetricsParser.Line(l.at(), l.text())).toList(), spec.collector().filters(), metrics);
            case FILE -> {
                var lines = readMetricsFile(metricsFile(trial, spec));
                yield spec.collector().format() == MetricsCollectorSpec.FileFormat.JSON
                        ? MetricsParser.parseJson(lines, metrics)
                        : MetricsParser.parseText(lines, spec.collector().filters(), metrics);
            }
            case PUSH -> observationsOf(trial);
            case NONE, TENSORFLOW_EVENT, PROMETHEUS, CUSTOM -> List.of();
        };
    }

    private List<MetricsParser.Line> readMetricsFile(Path file) {
        if (!Files.isRegularFile(file)) return List.of();
        try (var raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long from = Math.max(0, length - MAX_METRICS_FILE_BYTES);
            var bytes = new byte[(int) (length - from)];
            raf.seek(from);
            raf.readFully(bytes);
            var at = Files.getLastModifiedTime(file).toInstant();
            var out = new ArrayList<MetricsParser.Line>();
            for (var line : new String(bytes, StandardCharsets.UTF_8).split("\n")) out.add(new MetricsParser.Line(at, line));
            return out;
        } catch (IOException e) {
            throw new TransientException("cannot read metrics file " + file + ": " + e.getMessage(), e);
        }
    }

    private Path trialDir(Resource trial) {
        return trialDir(trial, trial.metadata().name());
    }

    /** The folder of the trial named {@code name} in {@code trial}'s experiment. */
    private Path trialDir(Resource trial, String name) {
        return workRoot.resolve(trial.metadata().namespace()).resolve(trial.metadata().labels().getOrDefault(Experiments.EXPERIMENT_LABEL, "_"))
                .resolve(name);
    }

    private Path metricsFile(Resource trial, ExperimentSpec spec) {
        var name = Path.of(spec.collector().path().orElse("/metrics.log")).getFileName();
        return trialDir(trial).resolve("katib").resolve(name == null ? "metrics.log" : name.toString());
    }

    private WorkloadSpec workload(Resource experiment, ExperimentSpec spec, Resource trial, String workloadId) {
        var trialSpec = TrialSpec.of(trial.spec());
        var command = TrialCommand.of(trialSpec.runSpec(), spec.trialTemplate().primaryContainerName());
        var dir = trialDir(trial);
        try {
            Files.createDirectories(dir.resolve("katib"));
        } catch (IOException e) {
            throw new TransientException("cannot create trial folder " + dir + ": " + e.getMessage(), e);
        }
        var rewrite = spec.collector().kind() == MetricsCollectorSpec.CollectorKind.FILE && spec.collector().path().isPresent();
        var original = spec.collector().path().orElse("");
        var local = metricsFile(trial, spec).toString();
        var checkpoint = PbtCheckpoints.prepare(spec, dir, trialSpec.suggestionLabels(), name -> trialDir(trial, name));
        java.util.function.UnaryOperator<String> localise = a -> {
            var out = rewrite ? a.replace(original, local) : a;
            return checkpoint.map(c -> c.rewrite(out)).orElse(out);
        };
        var container = TrialCommand.primaryContainer(trialSpec.runSpec(), spec.trialTemplate().primaryContainerName());
        var volumes = trialSpec.runSpec().path("spec").path("template").path("spec").path("volumes");
        var resolved = ConfigResolver.uses(container, volumes)
                ? configs.resolve("trial " + trial.metadata().namespace() + "/" + trial.metadata().name() + ": ", trial.metadata().namespace(),
                        container, volumes, new java.util.ArrayList<>())
                : ConfigResolver.Resolved.NONE;
        // Secret and config-map files live in the trial's folder (0700, files 0600) until the trial ends.
        var mounts = resolved.writeMounts(dir.resolve(VOLUMES));
        var args = command.command().stream().map(localise).map(mounts::apply).toList();
        var env = new HashMap<String, String>();
        resolved.env().forEach((k, v) -> env.put(k, v));
        command.env().forEach((k, v) -> env.put(k, localise.apply(v)));
        env.putAll(mounts.applyToEnv(env));
        checkpoint.ifPresent(c -> env.put("CAPSTAN_CHECKPOINT_DIR", c.local().toString()));
        env.putIfAbsent("PYTHONUNBUFFERED", "1");
        env.put("KATIB_TRIAL_NAME", trial.metadata().name());
        env.put("CAPSTAN_TRIAL_NAME", trial.metadata().name());
        env.put("CAPSTAN_TRIAL_NAMESPACE", trial.metadata().namespace());
        env.put("CAPSTAN_EXPERIMENT_NAME", experiment.metadata().name());
        if (rewrite) env.put("CAPSTAN_METRICS_FILE", local);
        if (!observationBaseUrl.isEmpty()) {
            env.put("CAPSTAN_OBSERVATION_URL", TrialApi.url(observationBaseUrl, trial.metadata().namespace(), trial.metadata().name()));
            var token = credentials.tokenFor(new WorkloadScope(trial.metadata().namespace(), WorkloadScope.TRIAL_OBSERVATIONS, trial.metadata().name()));
            if (!token.isEmpty()) env.put(WorkloadCredentials.ENV, token);
        }
        // A container's workingDir is honoured; a relative one is taken from the server's working directory, so that
        // an experiment applied from a checkout finds the checkout's scripts. Trial files stay in the trial folder.
        var workingDir = command.workingDir().map(wd -> Path.of(wd).toAbsolutePath().normalize()).orElse(dir);
        env.put("CAPSTAN_TRIAL_DIR", dir.toString());
        // In a container: the trial folder at its own path (metrics file, checkpoints, CAPSTAN_TRIAL_DIR), and the
        // container's workingDir as a folder of its image.
        var execution = command.execution() != ContainerOptions.Execution.AUTO ? command.execution()
                : ContainerOptions.Execution.parse(experiment.metadata().annotations().get(ContainerOptions.EXECUTION_ANNOTATION),
                        "metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        var containerOptions = new ContainerOptions(execution, command.pullPolicy(), List.of(ContainerOptions.Mount.samePath(dir)),
                command.workingDir().filter(wd -> wd.startsWith("/")));
        return new WorkloadSpec(workloadId, args, env, Optional.of(workingDir), command.requests(), spec.trialTimeout(), 0, command.image(),
                containerOptions)
                .withNamespace(trial.metadata().namespace());
    }

    private void removeVolumes(Resource trial) {
        ConfigResolver.deleteMounts(trialDir(trial).resolve(VOLUMES));
    }

    private Resource write(Resource trial, ResourceStatus next) {
        var stored = store.updateStatus(trial.key(), trial.metadata().resourceVersion(), next);
        spans.written(trial, next);
        return stored;
    }

    private ResourceStatus finished(ResourceStatus status, TrialPhase phase, String reason, String message) {
        var now = clock.instant();
        var next = status.withPhase(phase.name()).withField("message", TextNode.valueOf(message));
        if (next.field("completionTime").isEmpty()) next = next.withField("completionTime", TextNode.valueOf(now.toString()));
        if (next.condition("Running").isPresent()) next = next.withCondition("Running", false, reason, message, now);
        return next.withCondition(phase.name(), true, reason, message, now);
    }

    private ResourceStatus withLogTail(ResourceStatus status, String workloadId) {
        var arr = JsonNodeFactory.instance.arrayNode();
        backend.tail(workloadId, LOG_TAIL_LINES).forEach(l -> arr.add(l.text().length() > 500 ? l.text().substring(0, 500) + "..." : l.text()));
        return status.withField("logTail", arr);
    }

    private static ResourceStatus withTime(ResourceStatus status, String field, Optional<Instant> at) {
        if (at.isEmpty() || status.field(field).isPresent()) return status;
        return status.withField(field, TextNode.valueOf(at.get().toString()));
    }
}
