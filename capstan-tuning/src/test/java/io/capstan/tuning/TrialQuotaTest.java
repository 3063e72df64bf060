package io.capstan.tuning;

import static io.capstan.store.testing.TestProfiles.profile;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.LocalBackend;
import io.capstan.backend.WorkloadPhase;
import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.store.ProfileQuotas;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Katib trials are charged to the experiment's namespace at the backend's admission: real processes, H2, Profiles. */
class TrialQuotaTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private final QuotaLedger ledger = new QuotaLedger();
    private TuningHarness h;
    private ProfileQuotas profiles;

    private void start(Map<String, String> hard) {
        var db = TestDatabases.h2();
        var store = TuningHarness.storeOf(db);
        var backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("workloads")).withCapacity(16, 64L << 30)
                .withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofSeconds(1)).withQuotas(ledger));
        h = new TuningHarness(db, store, backend, dir, SearchCatalog.KATIB, "");
        store.create(profile("team-a", hard));
        profiles = new ProfileQuotas(store, ledger).start();
    }

    @AfterEach
    void tearDown() {
        if (profiles != null) profiles.close();
        if (h != null) h.close();
    }

    /** Three trials at a time, each asking {@code cpu} and logging its start and end, then loss=x. */
    private String experiment(String cpu) {
        return """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: cpus, namespace: team-a}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm: {algorithmName: random}
                  parallelTrialCount: 3
                  maxTrialCount: 3
                  maxFailedTrialCount: 0
                  parameters:
                    - {name: x, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryContainerName: main
                    trialParameters:
                      - {name: x, reference: x}
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        backoffLimit: 0
                        template:
                          spec:
                            containers:
                              - name: main
                                image: busybox
                                resources: {requests: {cpu: "%s"}}
                                command: [sh, -c, 'echo "start $(date +%%s%%N)" >> %s/times-$CAPSTAN_TRIAL_NAME; while [ ! -e %s/gate ]; do sleep 0.05; done; sleep 0.3; echo "end $(date +%%s%%N)" >> %s/times-$CAPSTAN_TRIAL_NAME; echo loss=${trialParameters.x}']
                            restartPolicy: Never
                """.formatted(cpu, dir, dir, dir);
    }

    private static boolean quotaExceeded(Resource r) {
        return r.status().condition(QuotaCondition.TYPE).map(c -> c.status() == Condition.Status.True).orElse(false);
    }

    private long running() {
        return h.backend.list().stream().filter(s -> s.phase() == WorkloadPhase.RUNNING).count();
    }

    @Test
    void threeParallelOneCpuTrialsUnderATwoCpuQuotaRunTwoAtATimeAndTheThirdWaitsSayingWhy() throws IOException {
        start(Map.of("cpu", "2"));
        var key = h.apply(experiment("1"));

        var waiting = h.reconcileUntil(key, WAIT, TrialQuotaTest::quotaExceeded);

        assertThat(waiting.status().condition(QuotaCondition.TYPE).orElseThrow().message())
                .isEqualTo("namespace team-a: requests.cpu 2 of 2 in use, this workload asks 1");
        assertThat(running()).isEqualTo(2);
        var waitingTrials = h.trials(key).stream().filter(TrialQuotaTest::quotaExceeded).toList();
        assertThat(waitingTrials).hasSize(1);
        assertThat(waitingTrials.getFirst().status().condition("Running").orElseThrow().reason()).isEqualTo("ExceededQuota");

        Files.createFile(dir.resolve("gate"));
        var done = h.reconcileUntilDone(key);

        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(done.status().condition(QuotaCondition.TYPE).orElseThrow().status()).isEqualTo(Condition.Status.False);
        assertThat(h.trials(key)).hasSize(3).allSatisfy(t -> assertThat(t.status().phase()).isEqualTo("Succeeded"));
        assertThat(maxOverlap(spans(h.trials(key)))).as("trials running at once").isEqualTo(2);
    }

    @Test
    void raisingTheQuotaLetsTheWaitingTrialStart() throws IOException {
        start(Map.of("cpu", "2"));
        var key = h.apply(experiment("1"));
        h.reconcileUntil(key, WAIT, TrialQuotaTest::quotaExceeded);

        h.store.apply(profile("team-a", Map.of("cpu", "3")));

        var cleared = h.reconcileUntil(key, WAIT, r -> !quotaExceeded(r) && running() == 3);
        assertThat(cleared.status().condition(QuotaCondition.TYPE).orElseThrow().reason()).isEqualTo("QuotaAvailable");
        Files.createFile(dir.resolve("gate"));
        assertThat(h.reconcileUntilDone(key).status().phase()).isEqualTo("Succeeded");
    }

    @Test
    void anExperimentWhoseTrialsAskMoreThanTheQuotaFailsAtOnceNamingIt() {
        start(Map.of("cpu", "2"));
        var key = h.apply(experiment("3"));

        var done = h.reconcileUntilDone(key);

        assertThat(done.status().phase()).isEqualTo("Failed");
        var failed = done.status().condition("Failed").orElseThrow();
        assertThat(failed.reason()).isEqualTo("ExceededQuota");
        assertThat(failed.message()).isEqualTo("namespace team-a: each trial of Experiment cpus asks 3 requests.cpu but the quota allows 2; "
                + "lower its requests or raise spec.resourceQuotaSpec.hard[requests.cpu] in Profile team-a");
        assertThat(h.backend.list()).as("nothing launched").isEmpty();
    }

    private List<long[]> spans(List<Resource> trials) throws IOException {
        var spans = new ArrayList<long[]>();
        for (var t : trials) {
            var lines = Files.readAllLines(dir.resolve("times-" + t.metadata().name()));
            assertThat(lines).as(t.metadata().name()).hasSize(2);
            spans.add(new long[] {Long.parseLong(lines.get(0).split(" ")[1]), Long.parseLong(lines.get(1).split(" ")[1])});
        }
        return spans;
    }

    private static int maxOverlap(List<long[]> spans) {
        var events = new ArrayList<long[]>();
        for (var s : spans) {
            events.add(new long[] {s[0], 1});
            events.add(new long[] {s[1], -1});
        }
        events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int running = 0;
        int max = 0;
        for (var e : events) {
            running += (int) e[1];
            max = Math.max(max, running);
        }
        return max;
    }
}
