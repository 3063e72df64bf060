package io.capstan.server.kfp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LabelSelector;
import io.capstan.store.Reconciler;
import io.capstan.store.testing.MutableClock;
import io.capstan.store.testing.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The recurring-run scheduler on a fake clock and a real store, with no engine: runs stay Pending until a test ends them. */
class RecurringRunReconcilerTest {
    static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
    static final String PIPELINE = """
            pipelineInfo: {name: tick}
            schemaVersion: 2.1.0
            components:
              comp-step: {executorLabel: exec-step}
            deploymentSpec:
              executors:
                exec-step: {container: {image: alpine, command: [sh, -c, 'true']}}
            root:
              dag:
                tasks:
                  step: {componentRef: {name: comp-step}, taskInfo: {name: step}}
            """;

    Database db;
    JdbiResourceStore store;
    KfpStore kfp;
    MutableClock clock;

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        clock = new MutableClock(T0);
        store = new JdbiResourceStore(db, clock);
        kfp = new KfpStore(store);
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    /** A fresh reconciler each time, as after a restart: everything it needs must be in the store. */
    Reconciler.Result reconcile(ResourceKey key) {
        return new RecurringRunReconciler(store, clock).reconcile(key);
    }

    /** Not {@code default}: a recurring run's runs start in its own namespace, where {@link #runsOf} counts them. */
    static final String NAMESPACE = "team-r";

    ResourceKey recurringRun(String id, int intervalSeconds, int maxConcurrency, boolean noCatchup) {
        ObjectNode spec = Json.json().createObjectNode();
        spec.put("displayName", id);
        spec.put("pipelineSpec", PIPELINE);
        spec.putObject("trigger").put("intervalSeconds", intervalSeconds);
        spec.put("maxConcurrency", maxConcurrency);
        spec.put("noCatchup", noCatchup);
        spec.put("mode", "ENABLE");
        return kfp.create(KfpKinds.RECURRING_RUN_KIND, NAMESPACE, id, spec, Map.of(), Map.of()).key();
    }

    long runsOf(ResourceKey rr) {
        return kfp.all(PipelineRuns.KIND, rr.namespace(), LabelSelector.parse(KfpKinds.LABEL_RECURRING_RUN_ID + "=" + rr.name())).size();
    }

    void finishAllRuns() {
        for (var r : kfp.all(PipelineRuns.KIND, java.util.Optional.empty(), LabelSelector.EVERYTHING)) {
            store.updateStatus(r.key(), "", ResourceStatus.EMPTY.withPhase("Succeeded"));
        }
    }

    String lastScheduled(ResourceKey rr) {
        return store.get(rr).status().field("lastScheduledTime").map(n -> n.asText()).orElse("");
    }

    @Test
    void startsOneRunPerTickAndWaitsForTheNextTick() {
        var rr = recurringRun("every-minute", 60, 1, false);
        assertThat(reconcile(rr).requeueAfter()).contains(Duration.ofSeconds(60));
        assertThat(reconcile(rr).requeueAfter()).contains(Duration.ofSeconds(60));
        assertThat(runsOf(rr)).isZero();

        clock.advance(Duration.ofSeconds(60));
        var version = store.get(rr).metadata().resourceVersion();
        assertThat(reconcile(rr).requeueAfter()).contains(Duration.ofSeconds(60));
        assertThat(runsOf(rr)).isEqualTo(1);
        assertThat(lastScheduled(rr)).isEqualTo(T0.plusSeconds(60).toString());
        var after = store.get(rr).metadata().resourceVersion();
        assertThat(after).isNotEqualTo(version);
        reconcile(rr);
        assertThat(runsOf(rr)).isEqualTo(1);
        assertThat(store.get(rr).metadata().resourceVersion()).isEqualTo(after);
    }

    @Test
    void maxConcurrencyHoldsATickUntilARunFinishes() {
        var rr = recurringRun("one-at-a-time", 10, 1, false);
        clock.advance(Duration.ofSeconds(10));
        reconcile(rr);
        clock.advance(Duration.ofSeconds(10));
        assertThat(reconcile(rr).requeueAfter()).contains(RecurringRunReconciler.CONCURRENCY_POLL);
        assertThat(reconcile(rr).requeueAfter()).contains(RecurringRunReconciler.CONCURRENCY_POLL);
        assertThat(runsOf(rr)).isEqualTo(1);
        finishAllRuns();
        reconcile(rr);
        assertThat(runsOf(rr)).isEqualTo(2);
    }

    @Test
    void missedTicksAreCaughtUpOneByOneUnlessNoCatchup() {
        var catchUp = recurringRun("catch-up", 10, 5, false);
        var skip = recurringRun("no-catch-up", 10, 5, true);
        clock.advance(Duration.ofSeconds(35));
        reconcile(catchUp);
        reconcile(catchUp);
        assertThat(lastScheduled(catchUp)).isEqualTo(T0.plusSeconds(20).toString());
        assertThat(runsOf(catchUp)).isEqualTo(2);

        reconcile(skip);
        assertThat(lastScheduled(skip)).isEqualTo(T0.plusSeconds(30).toString());
        assertThat(reconcile(skip).requeueAfter()).contains(Duration.ofSeconds(5));
        assertThat(runsOf(skip)).isEqualTo(1);
    }

    @Test
    void aDisabledRecurringRunStartsNothing() {
        var rr = recurringRun("off", 10, 1, false);
        kfp.mutate(rr, r -> {
            var spec = r.spec();
            spec.put("mode", "DISABLE");
            return r.withSpec(spec);
        });
        clock.advance(Duration.ofMinutes(5));
        assertThat(reconcile(rr)).isEqualTo(Reconciler.Result.done());
        assertThat(reconcile(rr)).isEqualTo(Reconciler.Result.done());
        assertThat(runsOf(rr)).isZero();
        assertThat(store.get(rr).status().phase()).isEqualTo("Disabled");
    }

    @Test
    void cronHasSixFieldsSecondsFirstInUtc() {
        var hourly = RecurringRunSpec.Cron.parse("0 0 * * * *");
        assertThat(hourly.next(Instant.parse("2026-01-01T10:30:00Z"))).isEqualTo(Instant.parse("2026-01-01T11:00:00Z"));
        var every5s = RecurringRunSpec.Cron.parse("*/5 * * * * *");
        assertThat(every5s.next(Instant.parse("2026-01-01T10:30:01Z"))).isEqualTo(Instant.parse("2026-01-01T10:30:05Z"));
        var mondays = RecurringRunSpec.Cron.parse("0 30 9 * * 1");
        assertThat(mondays.next(Instant.parse("2026-01-01T00:00:00Z"))).isEqualTo(Instant.parse("2026-01-05T09:30:00Z"));
        assertThatIllegalArgumentException().isThrownBy(() -> RecurringRunSpec.Cron.parse("0 * * * *")).withMessageContaining("5 fields");
        assertThatIllegalArgumentException().isThrownBy(() -> RecurringRunSpec.Cron.parse("0 0 25 * * *"));
    }
}
