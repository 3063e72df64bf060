package io.capstan.monitoring.slo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;

/**
 * A {@code ServiceLevelObjective} (monitoring.capstan.io/v1alpha1): an SLI, an objective in per cent, and the
 * period the error budget spans.
 *
 * <pre>
 * spec:
 *   sli:
 *     availability: {inferenceService: iris}                    # non-5xx share of inference requests
 *     # latency: {inferenceService: iris, threshold: 250ms}     # share answered within the threshold
 *     # pipelineRuns: {}                                        # share of finished PipelineRuns that succeeded
 *     # trainingJobs: {}                                        # share of finished training jobs that completed
 *     # driftRate: {monitor: iris-drift}                        # share of a ModelMonitor's tested windows without drift
 *   objective: 99.9
 *   period: 30d          # default
 *   interval: 30s        # how often the SLI is sampled (default)
 * </pre>
 */
public record ServiceLevelObjectiveSpec(Sli sli, double objectivePercent, Duration period, Duration interval) {
    public static final Duration DEFAULT_PERIOD = Duration.ofDays(30);
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    private static final Set<String> FIELDS = Set.of("sli", "objective", "period", "interval");
    private static final Set<String> SLIS = Set.of("availability", "latency", "pipelineRuns", "trainingJobs", "driftRate",
            "artifactIntegrity");

    /** What is measured. */
    public sealed interface Sli permits Availability, Latency, PipelineRuns, TrainingJobs, DriftRate, ArtifactIntegrity {
    }

    /** Inference requests of an InferenceService that did not fail with a 5xx (model failed, not ready). */
    public record Availability(String inferenceService) implements Sli {
    }

    /** Inference requests of an InferenceService answered within {@code threshold}. */
    public record Latency(String inferenceService, Duration threshold) implements Sli {
    }

    /** Finished PipelineRuns of the namespace that succeeded (cancelled runs do not count). */
    public record PipelineRuns() implements Sli {
    }

    /** Finished training jobs (TrainJob, PyTorchJob, XGBoostJob, ...) of the namespace that completed. */
    public record TrainingJobs() implements Sli {
    }

    /** The windows a ModelMonitor (same namespace) tested that did not drift. */
    public record DriftRate(String monitor) implements Sli {
    }

    /**
     * Verifications of stored bytes against their recorded digests (artifact reads, cached pipeline outputs) that
     * matched, platform-wide: {@code capstan_artifact_integrity_checks_total}.
     */
    public record ArtifactIntegrity() implements Sli {
    }

    /** The objective as a ratio, such as 0.999. */
    public double objective() {
        return objectivePercent / 100.0;
    }

    /** The share of events allowed to be bad, 1 − objective. */
    public double errorBudget() {
        return 1 - objective();
    }

    /** Reads and checks a spec, reporting every bad field; returns null when there are problems. */
    public static ServiceLevelObjectiveSpec parse(ObjectNode spec, Problems problems) {
        int before = problems.errors().size();
        only(spec, "spec", FIELDS, problems);
        Sli sli = null;
        var sliNode = SpecFields.requiredObject(spec.get("sli"), "spec.sli", problems);
        if (sliNode.isPresent()) {
            only(sliNode.get(), "spec.sli", SLIS, problems);
            var given = new java.util.ArrayList<String>();
            sliNode.get().fieldNames().forEachRemaining(f -> {
                if (SLIS.contains(f)) given.add(f);
            });
            if (given.size() != 1) {
                problems.add("spec.sli", "give exactly one of " + new java.util.TreeSet<>(SLIS) + ", got " + given.size());
            } else {
                var kind = given.getFirst();
                var at = "spec.sli." + kind;
                var node = SpecFields.object(sliNode.get().get(kind), at, problems);
                if (node.isPresent() || !SpecFields.present(sliNode.get().get(kind))) sli = sli(kind, node.orElse(null), at, problems);
            }
        }
        double objective = 0;
        var o = spec.get("objective");
        if (!SpecFields.present(o)) {
            problems.add("spec.objective", "required: the target share of good events in per cent, e.g. 99.9");
        } else {
            var value = SpecFields.number(o, "spec.objective", problems);
            if (value.isPresent() && (value.getAsDouble() <= 0 || value.getAsDouble() >= 100)) {
                problems.add("spec.objective", "must be above 0 and below 100 (per cent), got " + value.getAsDouble());
            } else if (value.isPresent()) {
                objective = value.getAsDouble();
            }
        }
        var period = duration(spec.get("period"), "spec.period", DEFAULT_PERIOD, Duration.ofHours(1), Duration.ofDays(90), problems);
        var interval = duration(spec.get("interval"), "spec.interval", DEFAULT_INTERVAL, Duration.ofMillis(200), Duration.ofMinutes(5), problems);
        if (problems.errors().size() > before || sli == null || period.isEmpty() || interval.isEmpty()) return null;
        return new ServiceLevelObjectiveSpec(sli, objective, period.get(), interval.get());
    }

    private static Sli sli(String kind, JsonNode node, String at, Problems problems) {
        return switch (kind) {
            case "availability" -> {
                if (node == null) {
                    problems.add(at + ".inferenceService", "required");
                    yield null;
                }
                only(node, at, Set.of("inferenceService"), problems);
                yield SpecFields.name(node.get("inferenceService"), at + ".inferenceService", problems).map(Availability::new).orElse(null);
            }
            case "latency" -> {
                if (node == null) {
                    problems.add(at + ".inferenceService", "required");
                    yield null;
                }
                only(node, at, Set.of("inferenceService", "threshold"), problems);
                var isvc = SpecFields.name(node.get("inferenceService"), at + ".inferenceService", problems);
                Optional<Duration> threshold = Optional.empty();
                if (!SpecFields.present(node.get("threshold"))) {
                    problems.add(at + ".threshold", "required: the latency a good request stays within, e.g. 250ms");
                } else {
                    threshold = duration(node.get("threshold"), at + ".threshold", Duration.ZERO, Duration.ofMillis(1), Duration.ofSeconds(30), problems);
                }
                yield isvc.isPresent() && threshold.isPresent() ? new Latency(isvc.get(), threshold.get()) : null;
            }
            case "driftRate" -> {
                if (node == null) {
                    problems.add(at + ".monitor", "required");
                    yield null;
                }
                only(node, at, Set.of("monitor"), problems);
                yield SpecFields.name(node.get("monitor"), at + ".monitor", problems).map(DriftRate::new).orElse(null);
            }
            case "pipelineRuns" -> {
                if (node != null) only(node, at, Set.of(), problems);
                yield new PipelineRuns();
            }
            case "artifactIntegrity" -> {
                if (node != null) only(node, at, Set.of(), problems);
                yield new ArtifactIntegrity();
            }
            default -> {
                if (node != null) only(node, at, Set.of(), problems);
                yield new TrainingJobs();
            }
        };
    }

    private static Optional<Duration> duration(JsonNode node, String at, Duration fallback, Duration min, Duration max, Problems problems) {
        if (!SpecFields.present(node)) return Optional.of(fallback);
        var text = SpecFields.string(node, at, 32, problems);
        if (text.isEmpty()) return Optional.empty();
        var t = text.get().strip();
        Optional<Duration> parsed;
        if (t.matches("\\d{1,6}d")) parsed = Optional.of(Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1))));
        else parsed = SpecFields.duration(t, ChronoUnit.SECONDS, at, problems);
        if (parsed.isPresent() && (parsed.get().compareTo(min) < 0 || parsed.get().compareTo(max) > 0)) {
            problems.add(at, "must be from " + min + " to " + max + ", got " + t);
            return Optional.empty();
        }
        return parsed;
    }

    private static void only(JsonNode node, String at, Set<String> known, Problems problems) {
        node.fieldNames().forEachRemaining(f -> {
            if (!known.contains(f)) problems.add(at + "." + Names.printable(f), "unknown field; known: " + new java.util.TreeSet<>(known));
        });
    }
}
