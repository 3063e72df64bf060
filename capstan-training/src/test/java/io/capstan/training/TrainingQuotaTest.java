package io.capstan.training;

import static io.capstan.store.testing.TestProfiles.profile;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.store.ProfileQuotas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training gang is admitted whole against its namespace's quota from a Profile, with real shell processes as ranks. */
class TrainingQuotaTest {
    @TempDir
    Path dir;
    private final QuotaLedger ledger = new QuotaLedger();
    private Testbed bed;
    private ProfileQuotas profiles;

    private void start(String namespace, Map<String, String> hard) {
        bed = Testbed.h2(dir, ledger);
        bed.store.create(profile(namespace, hard));
        profiles = new ProfileQuotas(bed.store, ledger).start();
    }

    @AfterEach
    void tearDown() {
        if (profiles != null) profiles.close();
        if (bed != null) bed.close();
    }

    private static String threeRanks(String name, String command) {
        return """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: %s, namespace: team-a}
                spec:
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, '%s']}]}}
                    Worker:
                      replicas: 2
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, '%s']}]}}
                """.formatted(name, command, command);
    }

    private static boolean quotaExceeded(Resource job) {
        return job.status().condition(QuotaCondition.TYPE).map(c -> c.status() == Condition.Status.True).orElse(false);
    }

    @Test
    void aGangOfThreeRanksInANamespaceOfTwoPodsIsRefusedAtOnceNamingTheQuota() {
        start("team-a", Map.of("pods", "2"));
        var key = bed.apply(threeRanks("wide", "true"));

        bed.reconciler(key).reconcile(key);

        var job = bed.get(key);
        assertThat(job.status().phase()).isEqualTo("Failed");
        var failed = job.status().condition("Failed").orElseThrow();
        assertThat(failed.reason()).isEqualTo("ExceededQuota");
        assertThat(failed.message()).isEqualTo("namespace team-a: PyTorchJob wide (3 ranks) asks 3 pods but the quota allows 2; "
                + "lower its requests or raise spec.resourceQuotaSpec.hard[pods] in Profile team-a");
        assertThat(bed.backend.list()).as("nothing launched").isEmpty();
        var version = job.metadata().resourceVersion();
        bed.reconciler(key).reconcile(key);
        assertThat(bed.get(key).metadata().resourceVersion()).isEqualTo(version);
    }

    @Test
    void aGangThatFitsTheQuotaOnlyWhenOtherWorkFinishesWaitsWholeSayingWhyThenRuns() throws IOException {
        start("team-a", Map.of("pods", "3"));
        var gate = dir.resolve("gate");
        bed.backend.launch(new WorkloadSpec("other-step", List.of("sh", "-c", "while [ ! -e '" + gate + "' ]; do sleep 0.05; done"),
                Map.of(), java.util.Optional.empty(), io.capstan.backend.ResourceRequest.NONE, java.util.Optional.of(Duration.ofSeconds(60)), 0,
                java.util.Optional.empty()).withNamespace("team-a"));
        var key = bed.apply(threeRanks("gang", "true"));

        var waiting = bed.runUntil(key, Duration.ofSeconds(30), "the quota wait", TrainingQuotaTest::quotaExceeded);

        var condition = waiting.status().condition(QuotaCondition.TYPE).orElseThrow();
        assertThat(condition.reason()).isEqualTo("ExceededQuota");
        assertThat(condition.message()).isEqualTo("namespace team-a: pods 1 of 3 in use, this gang of 3 workloads asks 3");
        assertThat(waiting.status().condition("Running").orElseThrow().reason()).isEqualTo("ExceededQuota");
        for (var m : TrainingWorkloads.members(waiting)) {
            assertThat(bed.backend.find(m.workloadId()).orElseThrow().phase()).as("rank %s", m.workloadId()).isEqualTo(WorkloadPhase.QUEUED);
        }

        Files.createFile(gate);
        var done = bed.runToEnd(key);

        assertThat(done.status().phase()).as(bed.logs(done)).isEqualTo("Succeeded");
        assertThat(done.status().condition(QuotaCondition.TYPE).orElseThrow().status()).isEqualTo(Condition.Status.False);
    }
}
