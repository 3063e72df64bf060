package io.capstan.monitoring.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.monitoring.MonitoringKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SLO reconciler on a real store, reading serving's request counters from a real registry, with a moved clock. */
class ServiceLevelObjectiveReconcilerTest {
    Database db;
    JdbiResourceStore store;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ModelMonitorReconcilerTest.TestClock clock = new ModelMonitorReconcilerTest.TestClock();
    ServiceLevelObjectiveReconciler reconciler;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(MonitoringKinds.all()));

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, clock);
        reconciler = new ServiceLevelObjectiveReconciler(store, meters, clock);
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    Counter requests(String outcome) {
        return Counter.builder("capstan.serving.requests").tags("namespace", "default", "model", "iris", "revision", "1", "outcome", outcome)
                .register(meters);
    }

    @Test
    void tenPerCentErrorsAgainstA99PerCentObjectiveFireTheSlowPageAndBothTickets() {
        ResourceKey key = store.apply(parser.parse("t.yaml", """
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ServiceLevelObjective
                metadata: {name: iris}
                spec:
                  sli: {availability: {inferenceService: iris}}
                  objective: 99
                """).getFirst()).key();
        reconciler.reconcile(key);
        assertThat(store.get(key).status().phase()).isEqualTo("Met");
        requests("success").increment(900);
        requests("invalid_input").increment(50);   // a 4xx is the caller's fault: good for availability
        requests("model_failed").increment(50);
        requests("not_ready").increment(50);
        clock.now = clock.now.plusSeconds(30);
        reconciler.reconcile(key);
        var status = store.get(key).status();
        // 100 of 1050 failed: 9.5% against a 1% budget
        assertThat(status.field("burnRates").orElseThrow().path("5m").asDouble()).isCloseTo(100 / 1050.0 / 0.01, within(1e-9));
        assertThat(status.phase()).isEqualTo("Paging");
        // While it pages, no canary rollout of iris advances; other services' rollouts go on.
        var freeze = new io.capstan.monitoring.SloRolloutFreeze(store);
        assertThat(freeze.frozen("default", "iris")).hasValueSatisfying(why -> assertThat(why).contains("default/iris").contains("pages"));
        assertThat(freeze.frozen("default", "other")).isEmpty();
        assertThat(freeze.frozen("team-a", "iris")).isEmpty();
        assertThat(status.field("alerts").orElseThrow()).extracting(a -> a.path("firing").asBoolean()).containsExactly(false, true, true, true);
        assertThat(meters.find("capstan.slo.alert").tag("severity", "page").gauge().value()).isEqualTo(1.0);
        var version = store.get(key).metadata().resourceVersion();
        reconciler.reconcile(key);
        assertThat(store.get(key).metadata().resourceVersion()).isEqualTo(version);

        // clean traffic afterwards: the 5-minute window clears first, and with it the page
        clock.now = clock.now.plusSeconds(30);
        requests("success").increment(10_000);
        reconciler.reconcile(key);
        clock.now = clock.now.plusSeconds(6 * 60);
        requests("success").increment(100);
        reconciler.reconcile(key);
        var later = store.get(key).status();
        assertThat(later.field("burnRates").orElseThrow().path("5m").asDouble()).isZero();
        assertThat(later.field("alerts").orElseThrow()).noneMatch(a -> a.path("firing").asBoolean());
        assertThat(later.phase()).isEqualTo("Met");
        assertThat(freeze.frozen("default", "iris")).isEmpty();
        store.delete(key);
        reconciler.reconcile(key);
        assertThat(meters.find("capstan.slo.alert").gauges()).isEmpty();
    }

    @Test
    void theDriftRateIsTheShareOfAMonitorsWindowsThatDidNotDrift() {
        ResourceKey key = store.apply(parser.parse("t.yaml", """
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ServiceLevelObjective
                metadata: {name: iris-drift-rate}
                spec:
                  sli: {driftRate: {monitor: iris-drift}}
                  objective: 90
                """).getFirst()).key();
        reconciler.reconcile(key);
        Counter.builder("capstan.drift.windows").tags("namespace", "default", "isvc", "iris", "monitor", "iris-drift", "outcome", "clean")
                .register(meters).increment(7);
        Counter.builder("capstan.drift.windows").tags("namespace", "default", "isvc", "iris", "monitor", "iris-drift", "outcome", "drifted")
                .register(meters).increment(3);
        Counter.builder("capstan.drift.windows").tags("namespace", "default", "isvc", "iris", "monitor", "other", "outcome", "drifted")
                .register(meters).increment(50);
        clock.now = clock.now.plusSeconds(30);
        reconciler.reconcile(key);
        var status = store.get(key).status();
        assertThat(status.field("sli").orElseThrow().asDouble()).isCloseTo(0.7, within(1e-12));
        assertThat(status.field("burnRates").orElseThrow().path("1h").asDouble()).isCloseTo(3, within(1e-9));
    }

    @Test
    void aCorruptedArtifactBurnsTheArtifactIntegrityBudget(@org.junit.jupiter.api.io.TempDir java.nio.file.Path root) throws Exception {
        var platform = new io.capstan.monitoring.PlatformMetrics(store, meters, uid -> false);
        var artifacts = platform.countingIntegrityFailures(new io.capstan.artifacts.LocalArtifactStore(root, clock));
        ResourceKey key = store.apply(parser.parse("t.yaml", """
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ServiceLevelObjective
                metadata: {name: integrity}
                spec:
                  sli: {artifactIntegrity: {}}
                  objective: 99.9
                """).getFirst()).key();
        reconciler.reconcile(key);
        // distinct contents: the store keeps one blob per content
        for (int i = 0; i < 9; i++) artifacts.put("model-" + i, new java.io.ByteArrayInputStream(("weights " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        var info = artifacts.put("model-9", new java.io.ByteArrayInputStream("weights 9".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        // a model file changed on disk behind the store's back
        var blob = java.nio.file.Path.of(java.net.URI.create(info.uri()));
        java.nio.file.Files.setPosixFilePermissions(blob, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        java.nio.file.Files.write(blob, "weightz 9".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (int i = 0; i < 10; i++) {
            try (var in = artifacts.get("model-" + i)) {
                in.readAllBytes();
            } catch (io.capstan.artifacts.CorruptArtifactException e) {
                assertThat(i).isEqualTo(9);
            }
        }
        clock.now = clock.now.plusSeconds(60);
        reconciler.reconcile(key);
        var status = store.get(key).status();
        // one bad read in ten: SLI 0.9, a burn rate of 100 against a 0.1% budget, both page alerts fire
        assertThat(status.field("sli").orElseThrow().asDouble()).as(status.toString()).isCloseTo(0.9, within(1e-9));
        assertThat(status.phase()).isEqualTo("Paging");
        assertThat(meters.get("capstan.artifact.integrity.failures").counter().count()).isEqualTo(1);
    }
}
