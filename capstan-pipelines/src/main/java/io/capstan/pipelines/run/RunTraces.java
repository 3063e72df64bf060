package io.capstan.pipelines.run;

import io.capstan.backend.WorkloadSpec;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.tracing.Traces;
import io.capstan.core.tracing.WorkSpans;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A run's trace: a span from the run's start to its end, and under it one span per attempt of each container step,
 * whose context the step's process finds in {@code TRACEPARENT}. Spans are kept open across reconciles; after a
 * restart the run's span starts again at the run's recorded start time. Thread-safe.
 */
final class RunTraces {
    static final String RUN_SPAN = "capstan.pipeline.run";
    static final String TASK_SPAN = "capstan.pipeline.task";
    static final AttributeKey<String> RUN_ID = AttributeKey.stringKey("capstan.run.id");
    static final AttributeKey<String> RUN_NAME = AttributeKey.stringKey("capstan.run.name");
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<String> PIPELINE = AttributeKey.stringKey("capstan.pipeline.name");
    static final AttributeKey<String> RUN_STATE = AttributeKey.stringKey("capstan.run.state");
    static final AttributeKey<String> TASK_NAME = AttributeKey.stringKey("capstan.task.name");
    static final AttributeKey<String> TASK_PATH = AttributeKey.stringKey("capstan.task.path");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("capstan.task.attempt");
    static final AttributeKey<Boolean> CACHED = AttributeKey.booleanKey("capstan.task.cached");
    static final AttributeKey<String> TASK_STATE = AttributeKey.stringKey("capstan.task.state");
    static final AttributeKey<String> WORKLOAD = AttributeKey.stringKey("capstan.workload.id");

    private final WorkSpans spans;
    /** The uid of each run with an open span, by key: a deleted run is known by its key alone. */
    private final Map<ResourceKey, String> uids = new ConcurrentHashMap<>();

    RunTraces(Tracer tracer) {
        this.spans = new WorkSpans(tracer);
    }

    boolean on() {
        return spans.on();
    }

    /**
     * Brings the run's spans up to date with one pass: opens the run's span and a span for every attempt that runs,
     * ends the spans of attempts that ended (and of the run, once it ended), and records cache hits.
     *
     * @param before the tasks as stored before the pass
     * @param after  the tasks as the pass left them
     */
    void passed(Resource run, String pipelineName, Map<String, TaskStatus> before, Map<String, TaskStatus> after, RunPhase phase, Instant now) {
        if (!spans.on()) return;
        var uid = run.metadata().uid();
        var runSpan = runSpan(run, pipelineName, now);
        var parent = Context.root().with(runSpan);
        after.forEach((path, st) -> {
            var was = before.get(path);
            if (was != null && !was.workloadId().isEmpty() && !was.state().isTerminal()
                    && (st.state().isTerminal() || !st.workloadId().equals(was.workloadId()))) {
                // The attempt ended: a new workload id means it failed and is retried.
                var state = st.workloadId().equals(was.workloadId()) ? st.state() : TaskState.FAILED;
                var ended = Attributes.of(TASK_STATE, state.wireName());
                var failed = state == TaskState.FAILED;
                var message = st.message();
                if (!spans.end(was.workloadId(), now, ended, failed, message)) {
                    spans.record(TASK_SPAN, parent, instant(was.startTime(), now), now, taskAttributes(uid, path, was, false).toBuilder()
                            .putAll(ended).build(), failed, message);
                }
            }
            if (st.state() == TaskState.CACHED && (was == null || was.state() != TaskState.CACHED)) {
                spans.record(TASK_SPAN, parent, now, now, taskAttributes(uid, path, st, true).toBuilder()
                        .put(TASK_STATE, st.state().wireName()).build(), false, "");
            }
            if (!st.workloadId().isEmpty() && !st.state().isTerminal()) {
                spans.open(st.workloadId(), TASK_SPAN, parent, now, taskAttributes(uid, path, st, false));
            }
        });
        if (phase.isTerminal()) ended(run, phase, "", now);
    }

    /** The workload with {@code TRACEPARENT} set to its attempt's span, where one is open. */
    WorkloadSpec launching(WorkloadSpec workload) {
        if (!spans.on()) return workload;
        var span = spans.find(workload.id());
        if (span.isEmpty()) return workload;
        var env = new LinkedHashMap<>(workload.env());
        env.put(Traces.TRACEPARENT_ENV, Traces.traceparent(span.get().getSpanContext()));
        return new WorkloadSpec(workload.id(), workload.command(), env, workload.workingDir(), workload.requests(), workload.timeout(),
                workload.priority(), workload.image(), workload.container(), workload.namespace(), workload.gang());
    }

    /** Ends the run's span, and those of its attempts still open, with the run's final phase. */
    void ended(Resource run, RunPhase phase, String message, Instant now) {
        if (!spans.on()) return;
        var uid = run.metadata().uid();
        spans.endAll(PipelineRuns.workloadPrefix(uid), now, Attributes.of(TASK_STATE, phase == RunPhase.CANCELLED ? TaskState.CANCELLED.wireName() : "ABANDONED"));
        spans.end(runId(uid), now, Attributes.of(RUN_STATE, phase.wireName()), phase == RunPhase.FAILED, message);
        uids.remove(run.key());
    }

    /** Ends the spans of a run that was deleted while it ran. */
    void deleted(ResourceKey key, Instant now) {
        if (!spans.on()) return;
        var uid = uids.remove(key);
        if (uid == null) return;
        spans.endAll(PipelineRuns.workloadPrefix(uid), now, Attributes.of(TASK_STATE, TaskState.CANCELLED.wireName()));
        spans.end(runId(uid), now, Attributes.of(RUN_STATE, "Deleted"), false, "");
    }

    private Span runSpan(Resource run, String pipelineName, Instant now) {
        var meta = run.metadata();
        uids.put(run.key(), meta.uid());
        var started = run.status().field("startTime").map(n -> instant(n.asText(), now)).orElse(now);
        return spans.open(runId(meta.uid()), RUN_SPAN, Context.root(), started, Attributes.of(RUN_ID, meta.uid(), RUN_NAME, meta.name(),
                NAMESPACE, meta.namespace(), PIPELINE, pipelineName));
    }

    private static String runId(String uid) {
        return "run/" + uid;
    }

    private static Attributes taskAttributes(String uid, String path, TaskStatus st, boolean cached) {
        int slash = path.lastIndexOf('/');
        return Attributes.builder().put(RUN_ID, uid).put(TASK_PATH, path).put(TASK_NAME, path.substring(slash + 1))
                .put(ATTEMPT, (long) st.attempts()).put(CACHED, cached).put(WORKLOAD, st.workloadId()).build();
    }

    private static Instant instant(String text, Instant fallback) {
        if (text.isEmpty()) return fallback;
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return fallback;
        }
    }

    /** The tasks of a stored run, by path. */
    static Map<String, TaskStatus> tasksOf(Resource run) {
        var tasks = new LinkedHashMap<String, TaskStatus>();
        run.status().field("tasks").ifPresent(t -> t.properties().forEach(e -> tasks.put(e.getKey(), TaskStatus.fromJson(e.getValue()))));
        return tasks;
    }
}
