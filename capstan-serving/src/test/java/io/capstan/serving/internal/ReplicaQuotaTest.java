package io.capstan.serving.internal;

import static io.capstan.store.testing.TestProfiles.profile;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.core.quota.QuotaCondition;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.ProfileQuotas;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each in-process model replica of an InferenceService counts as one pod plus its predictor's resources.requests
 * against its namespace's quota from a Profile: real ONNX model, real H2 store, Profiles followed by ProfileQuotas.
 */
class ReplicaQuotaTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    ModelServer server;
    InferenceServiceReconciler reconciler;
    ProfileQuotas profiles;
    final QuotaLedger ledger = new QuotaLedger();
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(ServingKinds.all()));
    Path model;

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        server = new ModelServer(Duration.ofHours(1));
        var storage = new ModelStorage(dir.resolve("cache"), null, b -> Optional.empty(), Duration.ofSeconds(30));
        reconciler = new InferenceServiceReconciler(store, server, storage, Runtimes.builtIn(), new SimpleMeterRegistry(),
                Clock.systemUTC(), () -> "http://localhost:8080", dir.resolve("work"), ledger);
        model = TestModels.irisOnnx(dir.resolve("models/iris"));
    }

    @AfterEach
    void tearDown() {
        if (profiles != null) profiles.close();
        server.close();
        db.close();
    }

    private void quota(Map<String, String> hard) {
        store.create(profile("team-a", hard));
        profiles = new ProfileQuotas(store, ledger).start();
    }

    private ResourceKey apply(String name, String extra) {
        var yaml = """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: %s, namespace: team-a}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storageUri: %s
                %s
                """.formatted(name, model.toUri(), extra.indent(6).stripTrailing());
        return store.apply(parser.parse("test.yaml", yaml).getFirst()).key();
    }

    private Resource reconciled(ResourceKey key) {
        reconciler.reconcile(key);
        return store.get(key);
    }

    private static Optional<Condition> quotaCondition(Resource isvc) {
        return isvc.status().condition(QuotaCondition.TYPE);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) throw new AssertionError("timed out waiting for " + what);
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }

    private static InferenceRequest oneRow() {
        return InferenceRequest.of(Tensor.ofFloats("input", new long[] {1, 4}, new float[] {5.1f, 3.5f, 1.4f, 0.2f}));
    }

    @Test
    void aServiceWhoseReplicaDoesNotFitWaitsNamingTheQuotaAndStartsWhenTheProfileIsRaised() {
        quota(Map.of("pods", "1"));
        var first = reconciled(apply("first", ""));
        assertThat(first.status().phase()).isEqualTo("Ready");
        assertThat(ledger.used("team-a").pods()).isEqualTo(1);

        var key = apply("second", "");
        var result = reconciler.reconcile(key);
        var waiting = store.get(key);

        assertThat(result.requeueAfter()).as("looked at again while it waits").isPresent();
        assertThat(waiting.status().phase()).isEqualTo("Loading");
        var condition = quotaCondition(waiting).orElseThrow();
        assertThat(condition.status()).isEqualTo(Condition.Status.True);
        assertThat(condition.reason()).isEqualTo("ExceededQuota");
        assertThat(condition.message()).isEqualTo("namespace team-a: pods 1 of 1 in use, this replica asks 1");
        var version = waiting.metadata().resourceVersion();
        assertThat(reconciled(key).metadata().resourceVersion()).as("a second reconcile writes nothing").isEqualTo(version);

        store.apply(profile("team-a", Map.of("pods", "2")));
        await("the raised quota", () -> ledger.find("team-a").map(q -> q.hard().values().contains(2L)).orElse(false));

        var ready = reconciled(key);
        assertThat(ready.status().phase()).isEqualTo("Ready");
        assertThat(quotaCondition(ready).orElseThrow().status()).isEqualTo(Condition.Status.False);
        assertThat(server.infer("team-a", "second", null, oneRow()).outputs()).hasSize(2);
        assertThat(ledger.used("team-a").pods()).isEqualTo(2);
    }

    @Test
    void aReplicaAskingMoreThanTheQuotaFailsTheServiceAtOnce() {
        quota(Map.of("cpu", "1"));

        var failed = reconciled(apply("big", "resources: {requests: {cpu: \"2\", memory: 1Gi}}"));

        assertThat(failed.status().phase()).isEqualTo("Failed");
        assertThat(failed.status().condition("Ready").orElseThrow().message())
                .isEqualTo("big-predictor-00001 failed: exceeded quota: namespace team-a: each replica of InferenceService big asks 2 requests.cpu "
                        + "but the quota allows 1; lower its requests or raise spec.resourceQuotaSpec.hard[requests.cpu] in Profile team-a");
        assertThat(ledger.used("team-a").pods()).isZero();
    }

    @Test
    void minReplicasBeyondTheQuotaServeWithWhatFitsAndSayWhy() {
        quota(Map.of("requests.cpu", "1"));

        var isvc = reconciled(applyWithReplicas());

        assertThat(isvc.status().phase()).isEqualTo("Ready");
        assertThat(quotaCondition(isvc).orElseThrow().message()).isEqualTo("namespace team-a: requests.cpu 1 of 1 in use, this replica asks 0.5");
        assertThat(ledger.used("team-a").millicpus()).isEqualTo(1000);
        assertThat(ledger.used("team-a").pods()).isEqualTo(2);

        store.delete(isvc.key());
        reconciler.reconcile(isvc.key());
        assertThat(ledger.used("team-a").pods()).as("an unloaded service gives its replicas back").isZero();
    }

    private ResourceKey applyWithReplicas() {
        var yaml = """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: wide, namespace: team-a}
                spec:
                  predictor:
                    minReplicas: 3
                    model:
                      modelFormat: {name: onnx}
                      storageUri: %s
                      resources: {requests: {cpu: 500m}}
                """.formatted(model.toUri());
        return store.apply(parser.parse("test.yaml", yaml).getFirst()).key();
    }
}
