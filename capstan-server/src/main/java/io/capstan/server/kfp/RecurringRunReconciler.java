package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.store.LabelSelector;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * Starts the runs of each enabled {@code RecurringRun} on its schedule. The last tick that got a run is in
 * {@code status.lastScheduledTime}, so the schedule survives restarts; a tick's run is named by a UUID derived from
 * the recurring run and the tick, so a crash between creating the run and recording the tick never runs it twice.
 * A tick waits (requeue) while {@code maxConcurrency} of its runs are unfinished; with {@code noCatchup} the ticks
 * missed while the server was down collapse into the latest one. Keeps no state in fields.
 */
public final class RecurringRunReconciler implements Reconciler {
    static final Duration CONCURRENCY_POLL = Duration.ofMillis(500);
    private static final int MAX_CATCHUP_STEPS = 100_000;

    private final KfpStore store;
    private final RunCatalog runs;
    private final Clock clock;

    public RecurringRunReconciler(ResourceStore store, Clock clock) {
        this.store = new KfpStore(Objects.requireNonNull(store, "store"));
        // The scheduler only starts runs; it never answers a run's task details, which need lineage.
        this.runs = new RunCatalog(this.store, new PipelineCatalog(this.store), uid -> TaskLineage.none());
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String kind() {
        return KfpKinds.RECURRING_RUN;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.store().find(key);
        if (found.isEmpty()) return Result.done();
        var rr = found.get();
        RecurringRunSpec spec;
        try {
            spec = RecurringRunSpec.of(rr.spec());
        } catch (InvalidSpecException e) {
            return stop(rr, "Failed", e.getMessage());
        }
        if (spec.mode() == RecurringRunSpec.Mode.DISABLE) return stop(rr, "Disabled", "");
        var now = clock.instant();
        var anchor = rr.status().field("lastScheduledTime").map(JsonNode::asText).map(Instant::parse)
                .orElseGet(() -> spec.startTime().isAfter(KfpStore.created(rr)) ? spec.startTime() : KfpStore.created(rr));
        var tick = spec.trigger().next(anchor);
        if (spec.noCatchup()) {
            for (int i = 0; i < MAX_CATCHUP_STEPS; i++) {
                var after = spec.trigger().next(tick);
                if (after.isAfter(now)) break;
                tick = after;
            }
        }
        if (tick.isAfter(spec.endTime())) return stop(rr, "Ended", "");
        if (tick.isAfter(now)) {
            // Recorded for readers (the UI's next fire time); only when it changed, so that the write wakes nobody twice.
            var waiting = rr.status().withPhase("Enabled").withField("nextScheduledTime", TextNode.valueOf(tick.toString()));
            if (!waiting.equals(rr.status())) store.store().updateStatus(rr.key(), rr.metadata().resourceVersion(), waiting);
            return Result.requeueAfter(Duration.between(now, tick));
        }
        var namespace = rr.metadata().namespace();
        long active = store.all(PipelineRuns.KIND, namespace, LabelSelector.parse(KfpKinds.LABEL_RECURRING_RUN_ID + "=" + rr.metadata().name()))
                .stream().filter(r -> !RunCatalog.isTerminal(r)).count();
        if (active >= spec.maxConcurrency()) return Result.requeueAfter(CONCURRENCY_POLL);
        try {
            var source = spec.pipelineVersionId().isEmpty()
                    ? new RunCatalog.Source("", "", spec.irText())
                    : runs.source(spec.pipelineId(), spec.pipelineVersionId(), null, namespace);
            var name = KfpStore.text(rr.spec(), "displayName");
            runs.createRun(namespace, runId(rr, tick), source, spec.parameters(), KfpStore.text(rr.spec(), "pipelineRoot"), spec.experimentId(),
                    name + " " + tick, "", rr.metadata().name());
        } catch (ConflictException e) {
            // The run of this tick exists already: created before a crash, its tick not yet recorded. Record it now.
        } catch (InvalidSpecException | NotFoundException e) {
            return stop(rr, "Failed", "cannot start the run of " + tick + ": " + e.getMessage());
        }
        var next = spec.trigger().next(tick);
        var status = rr.status().withPhase("Enabled").withField("lastScheduledTime", TextNode.valueOf(tick.toString()))
                .withField("nextScheduledTime", TextNode.valueOf(next.toString()))
                .withField("updatedAt", TextNode.valueOf(now.toString())).withField("message", TextNode.valueOf(""));
        store.store().updateStatus(rr.key(), rr.metadata().resourceVersion(), status);
        return Result.requeueAfter(next.isAfter(now) ? Duration.between(now, next) : Duration.ZERO);
    }

    /** The id of a tick's run: the same for the same recurring run and tick, whoever computes it. */
    static String runId(Resource rr, Instant tick) {
        return UUID.nameUUIDFromBytes((rr.metadata().uid() + "@" + tick).getBytes(StandardCharsets.UTF_8)).toString();
    }

    private Result stop(Resource rr, String phase, String message) {
        var status = rr.status().withPhase(phase).withField("message", TextNode.valueOf(message));
        if (!status.equals(rr.status())) store.store().updateStatus(rr.key(), rr.metadata().resourceVersion(), status);
        return Result.done();
    }
}
