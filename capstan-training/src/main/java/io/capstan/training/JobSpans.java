package io.capstan.training;

import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import io.capstan.core.tracing.Traces;
import io.capstan.core.tracing.WorkSpans;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Optional;

/**
 * A span per training job, from its first reconcile to its end, with its kind, ranks, restarts and outcome; every rank
 * finds the span's context in {@code TRACEPARENT}. A job that started before a restart gets its span when it ends,
 * from its recorded start. Thread-safe.
 */
final class JobSpans {
    static final String SPAN = "capstan.training.job";
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<String> KIND = AttributeKey.stringKey("capstan.job.kind");
    static final AttributeKey<String> NAME = AttributeKey.stringKey("capstan.job.name");
    static final AttributeKey<String> PHASE = AttributeKey.stringKey("capstan.job.phase");
    static final AttributeKey<Long> RESTARTS = AttributeKey.longKey("capstan.job.restarts");
    static final AttributeKey<String> REASON = AttributeKey.stringKey("capstan.job.reason");

    private final WorkSpans spans;

    JobSpans(Tracer tracer) {
        this.spans = new WorkSpans(tracer);
    }

    /** The plan with {@code TRACEPARENT} set to the job's span in every container, the span opened now if it is not open. */
    JobPlan traced(Resource job, JobPlan plan) {
        if (!spans.on()) return plan;
        var span = spans.open(job.metadata().uid(), SPAN, Context.root(), Instant.now(), attributes(job));
        var traceparent = Traces.traceparent(span.getSpanContext());
        return plan.withContainers(c -> {
            var env = new LinkedHashMap<>(c.env());
            env.put(Traces.TRACEPARENT_ENV, traceparent);
            return new JobPlan.Container(c.image(), c.command(), c.args(), env, c.resources(), c.workingDir(), c.configRefs(), c.mounts(), c.pullPolicy());
        });
    }

    /** Ends the job's span if {@code next} is the status that finishes it ({@code Succeeded} or {@code Failed}). */
    void written(Resource job, ResourceStatus next) {
        if (!spans.on() || !finished(next.phase()) || finished(job.status().phase())) return;
        var end = time(next, "completionTime").orElse(Instant.now());
        var failed = next.phase().equals("Failed");
        var reason = next.condition(next.phase()).map(c -> c.reason()).orElse("");
        var message = next.condition(next.phase()).map(c -> c.message()).orElse("");
        var ended = Attributes.builder().put(PHASE, next.phase()).put(REASON, reason)
                .put(RESTARTS, next.field("restarts").map(n -> n.asLong()).orElse(0L)).build();
        if (!spans.end(job.metadata().uid(), end, ended, failed, message)) {
            var start = time(next, "startTime").or(() -> job.metadata().created()).orElse(end);
            spans.record(SPAN, Context.root(), start, end, attributes(job).toBuilder().putAll(ended).build(), failed, message);
        }
    }

    private static boolean finished(String phase) {
        return phase.equals("Succeeded") || phase.equals("Failed");
    }

    private static Attributes attributes(Resource job) {
        var meta = job.metadata();
        return Attributes.of(NAMESPACE, meta.namespace(), KIND, job.kind(), NAME, meta.name());
    }

    private static Optional<Instant> time(ResourceStatus status, String field) {
        return status.field(field).flatMap(n -> {
            try {
                return Optional.of(Instant.parse(n.asText()));
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        });
    }
}
