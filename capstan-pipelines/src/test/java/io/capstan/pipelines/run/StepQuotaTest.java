package io.capstan.pipelines.run;

import static io.capstan.store.testing.TestProfiles.profile;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.WorkloadPhase;
import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.store.ProfileQuotas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quotas from Kubeflow Profiles limit a namespace's steps at the local backend's admission: real child processes, a
 * real H2 store, Profiles followed by {@link ProfileQuotas}. Each step of the wide pipeline waits for a gate file.
 */
class StepQuotaTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String STEP = "root/for-loop-1[%d]/step";

    @TempDir
    Path dir;
    private final QuotaLedger ledger = new QuotaLedger();
    private RunFixture fx;
    private ProfileQuotas profiles;

    private void start(Map<String, Map<String, String>> quotas) {
        fx = new RunFixture(dir, StepCommandRewriter.IDENTITY, o -> o.withCapacity(16, 64L << 30).withQuotas(ledger));
        quotas.forEach((ns, hard) -> fx.store.create(profile(ns, hard)));
        profiles = new ProfileQuotas(fx.store, ledger).start();
    }

    @AfterEach
    void tearDown() {
        if (profiles != null) profiles.close();
        if (fx != null) fx.close();
    }

    private ResourceKey submitWide(String namespace) {
        return fx.submit(namespace, "wide", RunFixture.specOf(RunFixture.resource("runs/wide-gated.yaml"), Map.of("dir", dir.toString())));
    }

    private static boolean quotaExceeded(Resource run) {
        return run.status().condition(QuotaCondition.TYPE).map(c -> c.status() == Condition.Status.True).orElse(false);
    }

    private long running() {
        return fx.backend.list().stream().filter(s -> s.phase() == WorkloadPhase.RUNNING).count();
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) throw new AssertionError("timed out waiting for " + what);
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }

    @Test
    void aNamespaceWithTwoPodsRunsTwoStepsAtOnceTheOthersWaitNamingTheQuotaAndAllFinish() throws IOException {
        start(Map.of("team-a", Map.of("pods", "2")));
        var key = submitWide("team-a");

        var waiting = fx.runUntil(key, StepQuotaTest::quotaExceeded);

        var condition = waiting.status().condition(QuotaCondition.TYPE).orElseThrow();
        assertThat(condition.reason()).isEqualTo("ExceededQuota");
        assertThat(condition.message()).isEqualTo("namespace team-a: pods 2 of 2 in use, this workload asks 1");
        await("two steps running", () -> running() == 2);
        var messages = new ArrayList<String>();
        for (int i = 0; i < 5; i++) messages.add(RunFixture.task(fx.store.get(key), STEP.formatted(i)).path("message").asText());
        assertThat(messages).filteredOn(m -> m.equals("waiting for quota: namespace team-a: pods 2 of 2 in use, this workload asks 1"))
                .as("tasks waiting for quota").hasSize(3);

        Files.createFile(dir.resolve("gate"));
        var done = fx.runToEnd(key);

        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(maxOverlap(spans(5))).as("steps of team-a running at once").isEqualTo(2);
        var after = done.status().condition(QuotaCondition.TYPE).orElseThrow();
        assertThat(after.status()).isEqualTo(Condition.Status.False);
        assertThat(after.reason()).isEqualTo("QuotaAvailable");
    }

    @Test
    void raisingTheQuotaInTheProfileLetsWaitingStepsStart() throws IOException {
        start(Map.of("team-a", Map.of("pods", "1")));
        var key = submitWide("team-a");
        fx.runUntil(key, StepQuotaTest::quotaExceeded);
        await("one step running", () -> running() == 1);

        fx.store.apply(profile("team-a", Map.of("pods", "5")));

        await("all five steps running with the gate still shut", () -> running() == 5);
        var run = fx.runUntil(key, r -> !quotaExceeded(r));
        assertThat(run.status().condition(QuotaCondition.TYPE).orElseThrow().status()).isEqualTo(Condition.Status.False);
        Files.createFile(dir.resolve("gate"));
        assertThat(fx.runToEnd(key).status().phase()).isEqualTo("Succeeded");
    }

    @Test
    void aNamespaceWithoutAProfileIsUnlimited() throws IOException {
        start(Map.of("team-a", Map.of("pods", "1")));
        var key = submitWide("team-b");
        fx.runUntil(key, r -> running() == 5);
        await("all five steps running", () -> running() == 5);

        Files.createFile(dir.resolve("gate"));
        var done = fx.runToEnd(key);

        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(done.status().condition(QuotaCondition.TYPE)).isEmpty();
    }

    @Test
    void aStepAskingMoreThanTheQuotaFailsTheRunAtOnceNamingTheQuota() {
        start(Map.of("team-a", Map.of("requests.cpu", "1")));
        var key = fx.submit("team-a", "big", RunFixture.specOf(RunFixture.resource("runs/resources.yaml"), Map.of("dir", dir.toString(), "cpus", "2")));

        var run = fx.runToEnd(key);

        assertThat(run.status().phase()).isEqualTo("Failed");
        assertThat(RunFixture.task(run, "root/for-loop-1[0]/hog").path("message").asText())
                .isEqualTo("exceeded quota: namespace team-a: this workload asks 2 requests.cpu but the quota allows 1; "
                        + "lower its requests or raise spec.resourceQuotaSpec.hard[requests.cpu] in Profile team-a");
    }

    private List<long[]> spans(int n) throws IOException {
        var spans = new ArrayList<long[]>();
        for (int x = 1; x <= n; x++) {
            var lines = Files.readAllLines(dir.resolve("times-" + x));
            assertThat(lines).as("item " + x).hasSize(2);
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
