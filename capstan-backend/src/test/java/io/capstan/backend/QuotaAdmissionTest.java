package io.capstan.backend;

import static io.capstan.backend.WorkloadBuilder.aWorkload;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.core.quota.ResourceQuota;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuotaAdmissionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private final QuotaLedger ledger = new QuotaLedger();
    private final List<LocalBackend> backends = new ArrayList<>();

    private LocalBackend backend() {
        var b = new LocalBackend(LocalBackend.Options.of(tmp.resolve("workloads")).withCapacity(16, 64L << 30)
                .withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofSeconds(2)).withQuotas(ledger));
        backends.add(b);
        return b;
    }

    @AfterEach
    void killEverything() {
        backends.forEach(b -> b.shutdownAndKillAll(Duration.ofSeconds(10)));
    }

    private void quota(String namespace, String hardYaml) {
        ledger.replaceQuotas(Map.of(namespace, parse(namespace, hardYaml)));
    }

    private static ResourceQuota parse(String namespace, String hardJson) {
        try {
            return ResourceQuota.parse(namespace, Json.json().readTree("{\"hard\": " + hardJson + "}"), "spec.resourceQuotaSpec");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Runs until {@code gate} exists. */
    private WorkloadBuilder blocked(String id, Path gate) {
        return aWorkload(id).shell("while [ ! -e '" + gate + "' ]; do sleep 0.05; done").timeout(WAIT);
    }

    private static WorkloadState awaitPhase(Backend b, String id, WorkloadPhase phase) {
        Eventually.await(id + " to be " + phase, WAIT, () -> String.valueOf(b.find(id)),
                () -> b.find(id).map(s -> s.phase() == phase).orElse(false));
        return b.find(id).orElseThrow();
    }

    private static long count(Backend b, WorkloadPhase phase) {
        return b.list().stream().filter(s -> s.phase() == phase).count();
    }

    @Test
    void runsAtMostPodsWorkloadsOfANamespaceAndTheOthersWaitNamingTheQuota() throws IOException {
        quota("team-a", "{\"pods\": \"2\"}");
        var b = backend();
        var gate = tmp.resolve("go");
        for (int i = 0; i < 5; i++) b.launch(blocked("w" + i, gate).namespace("team-a").build());

        awaitPhase(b, "w0", WorkloadPhase.RUNNING);
        awaitPhase(b, "w1", WorkloadPhase.RUNNING);
        var waiting = b.find("w2").orElseThrow();
        assertThat(waiting.phase()).isEqualTo(WorkloadPhase.QUEUED);
        assertThat(waiting.quotaWait()).hasValue("namespace team-a: pods 2 of 2 in use, this workload asks 1");
        assertThat(waiting.message()).startsWith("waiting for quota: namespace team-a: pods 2 of 2");
        assertThat(count(b, WorkloadPhase.RUNNING)).isEqualTo(2);
        assertThat(ledger.used("team-a").pods()).isEqualTo(2);

        Files.createFile(gate);
        for (int i = 0; i < 5; i++) awaitPhase(b, "w" + i, WorkloadPhase.SUCCEEDED);
        assertThat(ledger.used("team-a").pods()).isZero();
    }

    @Test
    void aFullNamespaceDoesNotHoldUpOthersAndANamespaceWithoutQuotaIsUnlimited() {
        quota("team-a", "{\"pods\": \"1\"}");
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(blocked("a0", gate).namespace("team-a").build());
        b.launch(blocked("a1", gate).namespace("team-a").build());
        for (int i = 0; i < 4; i++) b.launch(blocked("b" + i, gate).namespace("team-b").build());
        b.launch(blocked("none", gate).build());

        for (int i = 0; i < 4; i++) awaitPhase(b, "b" + i, WorkloadPhase.RUNNING);
        awaitPhase(b, "none", WorkloadPhase.RUNNING);
        awaitPhase(b, "a0", WorkloadPhase.RUNNING);
        assertThat(b.find("a1").orElseThrow().quotaWait()).isPresent();
        assertThat(b.find("b0").orElseThrow().quotaWait()).isEmpty();
    }

    @Test
    void refusesAtOnceAWorkloadThatAsksMoreThanTheQuotaAllows() {
        quota("team-a", "{\"cpu\": \"2\", \"memory\": \"1Gi\"}");
        var b = backend();

        var state = b.launch(aWorkload("big").command("true").requests(3, 0, 0).namespace("team-a").build());

        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.message()).isEqualTo("exceeded quota: namespace team-a: this workload asks 3 requests.cpu but the quota allows 2; "
                + "lower its requests or raise spec.resourceQuotaSpec.hard[requests.cpu] in Profile team-a");
    }

    @Test
    void cpuQuotaCountsFractionalRequestsAndWorkloadsWithoutRequestsCountOnlyAsPods() {
        quota("team-a", "{\"requests.cpu\": \"1\", \"pods\": \"5\"}");
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(blocked("half1", gate).requests(0.5, 0, 0).namespace("team-a").build());
        b.launch(blocked("half2", gate).requests(0.5, 0, 0).namespace("team-a").build());
        b.launch(blocked("more", gate).requests(0.25, 0, 0).namespace("team-a").build());
        b.launch(blocked("free", gate).namespace("team-b").build());

        awaitPhase(b, "half1", WorkloadPhase.RUNNING);
        awaitPhase(b, "half2", WorkloadPhase.RUNNING);
        assertThat(b.find("more").orElseThrow().quotaWait()).hasValue("namespace team-a: requests.cpu 1 of 1 in use, this workload asks 0.25");
        awaitPhase(b, "free", WorkloadPhase.RUNNING);
    }

    @Test
    void raisingTheQuotaStartsWaitingWorkWithoutARestart() {
        quota("team-a", "{\"pods\": \"1\"}");
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(blocked("first", gate).namespace("team-a").build());
        b.launch(blocked("second", gate).namespace("team-a").build());
        awaitPhase(b, "first", WorkloadPhase.RUNNING);
        assertThat(b.find("second").orElseThrow().quotaWait()).isPresent();

        quota("team-a", "{\"pods\": \"2\"}");

        var second = awaitPhase(b, "second", WorkloadPhase.RUNNING);
        assertThat(second.quotaWait()).isEmpty();
    }

    @Test
    void removingTheProfileLiftsTheLimit() {
        quota("team-a", "{\"pods\": \"1\"}");
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(blocked("first", gate).namespace("team-a").build());
        b.launch(blocked("second", gate).namespace("team-a").build());
        awaitPhase(b, "first", WorkloadPhase.RUNNING);

        ledger.replaceQuotas(Map.of());

        awaitPhase(b, "second", WorkloadPhase.RUNNING);
    }

    @Test
    void admitsAGangWholeOnlyWhenAllItsMembersFitTheQuota() throws IOException {
        quota("team-a", "{\"pods\": \"3\"}");
        var b = backend();
        var gate = tmp.resolve("go");
        var firstGate = tmp.resolve("go-first");
        b.launch(blocked("single", firstGate).namespace("team-a").build());
        awaitPhase(b, "single", WorkloadPhase.RUNNING);
        for (int r = 0; r < 3; r++) b.launch(blocked("rank" + r, gate).namespace("team-a").gang("job-1", 3).build());

        for (int r = 0; r < 3; r++) {
            var s = b.find("rank" + r).orElseThrow();
            assertThat(s.phase()).as("rank %d while one pod of three is taken", r).isEqualTo(WorkloadPhase.QUEUED);
            assertThat(s.quotaWait()).hasValue("namespace team-a: pods 1 of 3 in use, this gang of 3 workloads asks 3");
        }

        Files.createFile(firstGate);
        for (int r = 0; r < 3; r++) awaitPhase(b, "rank" + r, WorkloadPhase.RUNNING);
    }

    @Test
    void waitsForEveryMemberOfAGangBeforeAdmittingAny() {
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(blocked("rank0", gate).namespace("team-a").gang("job-1", 2).build());
        assertThat(b.find("rank0").orElseThrow().phase()).isEqualTo(WorkloadPhase.QUEUED);

        b.launch(blocked("rank1", gate).namespace("team-a").gang("job-1", 2).build());

        awaitPhase(b, "rank0", WorkloadPhase.RUNNING);
        awaitPhase(b, "rank1", WorkloadPhase.RUNNING);
    }

    @Test
    void refusesAGangThatCanNeverFitTheQuota() {
        quota("team-a", "{\"pods\": \"2\"}");
        var b = backend();
        for (int r = 0; r < 3; r++) b.launch(aWorkload("rank" + r).command("true").namespace("team-a").gang("job-1", 3).build());

        for (int r = 0; r < 3; r++) {
            var s = awaitPhase(b, "rank" + r, WorkloadPhase.FAILED);
            assertThat(s.message()).isEqualTo("exceeded quota: namespace team-a: this gang of 3 workloads asks 3 pods but the quota allows 2; "
                    + "lower its requests or raise spec.resourceQuotaSpec.hard[pods] in Profile team-a");
        }
    }

    @Test
    void failsAGangWhoseMembersTogetherAskMoreThanTheMachineHas() {
        var b = backend();
        for (int r = 0; r < 3; r++) b.launch(aWorkload("rank" + r).command("true").requests(8, 0, 0).gang("job-1", 3).build());

        for (int r = 0; r < 3; r++) {
            assertThat(awaitPhase(b, "rank" + r, WorkloadPhase.FAILED).message()).isEqualTo(
                    "gang 'job-1' (3 workloads together) requests 24.0 cpus but this machine has 16.0; lower requests.cpus to at most 16.0 or run it on Kubernetes");
        }
        b.launch(aWorkload("next").command("true").requests(8, 0, 0).build());
        awaitPhase(b, "next", WorkloadPhase.SUCCEEDED);
    }

    /**
     * Many threads launch at once into a namespace allowing 3 pods: each workload counts, as it starts, how many of
     * the namespace's workloads are running (a folder each), and none may ever see more than 3.
     */
    @Test
    void neverAdmitsPastTheQuotaUnderConcurrentLaunches() throws Exception {
        quota("team-a", "{\"pods\": \"3\", \"cpu\": \"3\"}");
        var b = backend();
        var running = Files.createDirectories(tmp.resolve("running"));
        var seen = Files.createDirectories(tmp.resolve("seen"));
        int n = 60;
        var maxUsed = new AtomicLong();
        var sampler = Thread.ofVirtual().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                maxUsed.accumulateAndGet(ledger.used("team-a").pods(), Math::max);
                Thread.onSpinWait();
            }
        });
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<WorkloadState>>();
            for (int i = 0; i < n; i++) {
                var id = "c" + i;
                var script = "mkdir '" + running + "/" + id + "'; ls '" + running + "' | wc -l > '" + seen + "/" + id + "'; sleep 0.1; rmdir '" + running + "/" + id + "'";
                futures.add(exec.submit(() -> b.launch(aWorkload(id).shell(script).requests(1, 0, 0).namespace("team-a").timeout(WAIT).build())));
            }
            for (var f : futures) f.get(60, TimeUnit.SECONDS);
        }
        IntStream.range(0, n).forEach(i -> awaitPhase(b, "c" + i, WorkloadPhase.SUCCEEDED));
        sampler.interrupt();
        sampler.join(Duration.ofSeconds(5));

        int most = 0;
        for (int i = 0; i < n; i++) most = Math.max(most, Integer.parseInt(Files.readString(seen.resolve("c" + i)).trim()));
        assertThat(most).as("workloads of team-a seen running at once").isBetween(1, 3);
        assertThat(maxUsed.get()).as("pods charged to team-a at once").isLessThanOrEqualTo(3);
        assertThat(ledger.used("team-a").pods()).isZero();
    }
}
