package io.capstan.tuning;

import io.capstan.backend.WorkloadSpec;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import io.capstan.core.tracing.Traces;
import io.capstan.core.tracing.WorkSpans;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;

/**
 * A span per trial, from its launch to its end, with its experiment, parameters, phase and metrics; the trial's
 * process finds the span's context in {@code TRACEPARENT}. A trial not seen to start here (one that runs as a
 * training job, or that started before a restart) gets its span when it ends, from its recorded start. Thread-safe.
 */
final class TrialSpans {
    static final String SPAN = "capstan.trial";
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<String> EXPERIMENT = AttributeKey.stringKey("capstan.experiment.name");
    static final AttributeKey<String> TRIAL = AttributeKey.stringKey("capstan.trial.name");
    static final AttributeKey<String> PHASE = AttributeKey.stringKey("capstan.trial.phase");
    static final String PARAMETER_PREFIX = "capstan.trial.parameter.";
    static final String METRIC_PREFIX = "capstan.trial.metric.";

    private final WorkSpans spans;

    TrialSpans(Tracer tracer) {
        this.spans = new WorkSpans(tracer);
    }

    /** The trial's workload, with {@code TRACEPARENT} set to the trial's span, opened now if it is not open. */
    WorkloadSpec launching(Resource trial, WorkloadSpec workload) {
        if (!spans.on()) return workload;
        var span = spans.open(trial.metadata().uid(), SPAN, Context.root(), Instant.now(), attributes(trial).build());
        var env = new LinkedHashMap<>(workload.env());
        env.put(Traces.TRACEPARENT_ENV, Traces.traceparent(span.getSpanContext()));
        return new WorkloadSpec(workload.id(), workload.command(), env, workload.workingDir(), workload.requests(), workload.timeout(),
                workload.priority(), workload.image(), workload.container(), workload.namespace(), workload.gang());
    }

    /** Ends the trial's span if {@code next} is the status that finishes it. */
    void written(Resource trial, ResourceStatus next) {
        if (!spans.on()) return;
        var phase = TrialPhase.find(next.phase());
        if (phase.isEmpty() || !phase.get().isTerminal() || TrialPhase.ofStatus(trial.status().phase()).isTerminal()) return;
        var end = time(next, "completionTime").orElse(Instant.now());
        var ended = Attributes.builder().put(PHASE, phase.get().name());
        next.field("observation").map(o -> o.path("metrics")).ifPresent(metrics -> metrics.forEach(m -> {
            try {
                ended.put(AttributeKey.doubleKey(METRIC_PREFIX + m.path("name").asText()), Double.parseDouble(m.path("latest").asText()));
            } catch (NumberFormatException e) {
                ended.put(AttributeKey.stringKey(METRIC_PREFIX + m.path("name").asText()), m.path("latest").asText());
            }
        }));
        var failed = phase.get().isFailure();
        var message = next.field("message").map(n -> n.asText()).orElse("");
        if (!spans.end(trial.metadata().uid(), end, ended.build(), failed, message)) {
            var start = time(next, "startTime").or(() -> trial.metadata().created()).orElse(end);
            spans.record(SPAN, Context.root(), start, end, attributes(trial).putAll(ended.build()).build(), failed, message);
        }
    }

    private static AttributesBuilder attributes(Resource trial) {
        var meta = trial.metadata();
        var builder = Attributes.builder().put(NAMESPACE, meta.namespace()).put(TRIAL, meta.name())
                .put(EXPERIMENT, meta.labels().getOrDefault(Experiments.EXPERIMENT_LABEL, ""));
        try {
            TrialSpec.of(trial.spec()).assignment().forEach((name, value) -> builder.put(AttributeKey.stringKey(PARAMETER_PREFIX + name), value));
        } catch (RuntimeException e) {
            // A trial whose spec cannot be read fails for that reason; its span simply has no parameters.
        }
        return builder;
    }

    private static java.util.Optional<Instant> time(ResourceStatus status, String field) {
        return status.field(field).flatMap(n -> {
            try {
                return java.util.Optional.of(Instant.parse(n.asText()));
            } catch (DateTimeParseException e) {
                return java.util.Optional.empty();
            }
        });
    }
}
