package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import io.capstan.core.TransientException;
import io.capstan.store.ResourceStore;
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
import java.util.List;
import java.util.Optional;

/**
 * Runs one trial on the backend and mirrors its workload into the trial's status: launch, observe, collect metrics,
 * decide the outcome. Durable before acting: the workload id is written before the launch (launch is idempotent on
 * it), and an early stop is recorded before the cancel, so that a crash at any point neither loses nor re-runs a
 * trial. A terminal trial is never touched again.
 */
final class TrialRunner {
    static final int MAX_LOG_LINES = 100_000;
    static final long MAX_METRICS_FILE_BYTES = 16L << 20;
    static final int LOG_TAIL_LINES = 20;

    private final ResourceStore store;
    private final Backend backend;
    private final Path workRoot;
    private final Clock clock;
    /** Base of the observation API, such as {@code http://127.0.0.1:8080/apis/capstan/v1}; empty when not served. */
    private final String observationBaseUrl;

    TrialRunner(ResourceStore store, Backend backend, Path workRoot, Clock clock, String observationBaseUrl) {
        this.store = store;
        this.backend = backend;
        this.workRoot = workRoot;
        this.clock = clock;
        this.observationBaseUrl = observationBaseUrl;
    }

    /** Moves the trial one step on; returns it as stored afterwards. */
    Resource step(Resource experiment, ExperimentSpec spec, Resource trial) {
        var status = trial.status();
        if (TrialPhase.ofStatus(status.phase()).isTerminal()) return trial;
        var id = status.field("workloadId").map(n -> n.asText());
        if (id.isEmpty()) return launch(experiment, spec, trial);
        var state = backend.find(id.get());
        if (state.isEmpty()) {
            // The id was recorded but the launch never happened, or the backend lost its folder: launch is idempotent.
            try {
                backend.launch(workload(experiment, spec, trial, id.get()));
            } catch (InvalidSpecException e) {
                return write(trial, finished(status, TrialPhase.Failed, "TrialSpecInvalid", e.getMessage()));
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
        var stored = write(trial, next);
        backend.launch(workload);
        return stored;
    }

    private Resource observe(ExperimentSpec spec, Resource trial, WorkloadState state) {
        var status = trial.status();
        var now = clock.instant();
        ResourceStatus next;
        switch (state.phase()) {
            case QUEUED -> next = status.withCondition("Running", false, "Queued", "waiting for CPU, memory or GPUs to free up", now);
            case RUNNING -> {
                next = withTime(status, "startTime", state.startedAt()).withPhase(TrialPhase.Running.name())
                        .withCondition("Running", true, "TrialRunning", "Trial is running", now);
                if (spec.earlyStopping().isPresent() && spec.collector().kind() != MetricsCollectorSpec.CollectorKind.PUSH) {
                    next = withObservations(next, spec, collect(spec, trial, state.id()));
                }
            }
            default -> next = outcome(spec, trial, state);
        }
        return next.equals(status) ? trial : write(trial, next);
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
                        && Observations.objectiveValue(observations, spec.objective()).isEmpty()) {
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

    /** Records the decision to stop the trial, then cancels it; the outcome is read once the workload ends. */
    Resource stopEarly(Resource trial) {
        var id = trial.status().field("workloadId").map(n -> n.asText());
        var stored = trial;
        if (!trial.status().field("earlyStopRequested").map(n -> n.asBoolean()).orElse(false)) {
            stored = write(trial, trial.status().withField("earlyStopRequested", BooleanNode.TRUE));
        }
        id.ifPresent(backend::cancel);
        return stored;
    }

    /** Marks a trial that will not be waited for any more Killed, then cancels its workload. */
    Resource kill(Resource trial, String why) {
        var stored = write(trial, finished(trial.status(), TrialPhase.Killed, "TrialKilled", why));
        cancelIfRunning(stored);
        return stored;
    }

    /** Cancels the workload of a trial that is already finished in the store but may still run (after a crash). */
    void cancelIfRunning(Resource trial) {
        var id = trial.status().field("workloadId").map(n -> n.asText());
        if (id.isEmpty()) return;
        backend.find(id.get()).filter(s -> !s.phase().isTerminal()).ifPresent(s -> backend.cancel(s.id()));
    }

    /** Every observation stored in the trial's status, oldest first. */
    static List<Observation> observationsOf(Resource trial) {
        return Observations.fromJson(trial.status().field("observations").orElse(null));
    }

    private ResourceStatus withObservations(ResourceStatus status, ExperimentSpec spec, List<Observation> observations) {
        if (spec.collector().kind() == MetricsCollectorSpec.CollectorKind.PUSH) {
            return status.withField("observation", Observations.katibObservation(observations, spec.objective()));
        }
        if (observations.isEmpty() && status.field("observations").isEmpty()) return status;
        return status.withField("observations", Observations.toJson(observations))
                .withField("observation", Observations.katibObservation(observations, spec.objective()));
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
        return workRoot.resolve(trial.metadata().namespace()).resolve(trial.metadata().labels().getOrDefault(Experiments.EXPERIMENT_LABEL, "_"))
                .resolve(trial.metadata().name());
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
        var args = command.command().stream().map(a -> rewrite ? a.replace(original, local) : a).toList();
        var env = new HashMap<String, String>();
        command.env().forEach((k, v) -> env.put(k, rewrite ? v.replace(original, local) : v));
        env.putIfAbsent("PYTHONUNBUFFERED", "1");
        env.put("KATIB_TRIAL_NAME", trial.metadata().name());
        env.put("CAPSTAN_TRIAL_NAME", trial.metadata().name());
        env.put("CAPSTAN_TRIAL_NAMESPACE", trial.metadata().namespace());
        env.put("CAPSTAN_EXPERIMENT_NAME", experiment.metadata().name());
        if (rewrite) env.put("CAPSTAN_METRICS_FILE", local);
        if (!observationBaseUrl.isEmpty()) {
            env.put("CAPSTAN_OBSERVATION_URL", TrialApi.url(observationBaseUrl, trial.metadata().namespace(), trial.metadata().name()));
        }
        // A container's workingDir is honoured; a relative one is taken from the server's working directory, so that
        // an experiment applied from a checkout finds the checkout's scripts. Trial files stay in the trial folder.
        var workingDir = command.workingDir().map(wd -> Path.of(wd).toAbsolutePath().normalize()).orElse(dir);
        env.put("CAPSTAN_TRIAL_DIR", dir.toString());
        return new WorkloadSpec(workloadId, args, env, Optional.of(workingDir), command.requests(), spec.trialTimeout(), 0, command.image());
    }

    private Resource write(Resource trial, ResourceStatus next) {
        return store.updateStatus(trial.key(), trial.metadata().resourceVersion(), next);
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
