package io.capstan.monitoring.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.monitoring.MonitoringKinds;
import io.capstan.serving.Serving;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ModelMonitor reconciler on a real store and a real served model, with a clock the test moves. */
class ModelMonitorReconcilerTest {
    static final Path IRIS_CSV = Path.of("..", "examples", "iris", "iris.csv").toAbsolutePath().normalize();

    /** A clock that moves only when told. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    TestClock clock = new TestClock();
    ModelMonitorReconciler reconciler;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(new ArrayList<>(ServingKinds.all()) {
        {
            addAll(MonitoringKinds.all());
        }
    }));

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, clock);
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), clock, meters, "http://localhost:8080",
                Serving.Options.defaults());
        reconciler = new ModelMonitorReconciler(store, serving, meters, clock);
        var model = TestModels.irisOnnx(dir.resolve("model"));
        var isvc = apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model: {modelFormat: {name: onnx}, storageUri: %s}
                """.formatted(model.toUri()));
        serving.reconciler().reconcile(isvc);
        assertThat(store.get(isvc).status().phase()).isEqualTo("Ready");
    }

    @AfterEach
    void tearDown() {
        serving.close();
        db.close();
    }

    ResourceKey apply(String yaml) {
        return store.apply(parser.parse("t.yaml", yaml).getFirst()).key();
    }

    void serve(int rows, float shift) {
        for (int r = 0; r < rows; r++) {
            var row = new float[] {5.0f + shift + (r % 7) * 0.1f, 3.0f + (r % 5) * 0.1f, 1.5f + shift + (r % 9) * 0.2f, 0.3f + (r % 3) * 0.1f};
            serving.endpoint().infer("default", "iris", null, InferenceRequest.of(Tensor.ofFloats("input", new long[] {1, 4}, row)));
        }
    }

    @Test
    void testsTheWindowOncePerIntervalAndASecondReconcileChangesNothing() {
        var key = apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: iris-drift}
                spec:
                  inferenceService: iris
                  reference: {uri: "%s", features: [sepal_length, sepal_width, petal_length, petal_width]}
                  window: {rows: 50}
                """.formatted(IRIS_CSV.toUri()));
        reconciler.reconcile(key);
        var collecting = store.get(key);
        assertThat(collecting.status().phase()).isEqualTo("Collecting");
        reconciler.reconcile(key);
        assertThat(store.get(key).metadata().resourceVersion()).isEqualTo(collecting.metadata().resourceVersion());

        serve(60, 4.0f);
        // within the interval, requests served change nothing yet
        var early = reconciler.reconcile(key);
        assertThat(store.get(key).metadata().resourceVersion()).isEqualTo(collecting.metadata().resourceVersion());
        assertThat(early.requeueAfter()).contains(Duration.ofSeconds(10));

        clock.now = clock.now.plusSeconds(10);
        reconciler.reconcile(key);
        var tested = store.get(key);
        assertThat(tested.status().phase()).isEqualTo("Drifted");
        assertThat(tested.status().field("samples").orElseThrow().asInt()).isEqualTo(50);
        assertThat(tested.status().field("features").orElseThrow()).hasSize(4);
        assertThat(meters.find("capstan.drift.detected").gauge().value()).isEqualTo(1.0);
        assertThat(meters.find("capstan.drift.windows").tag("outcome", "drifted").counter().count()).isEqualTo(1.0);
        reconciler.reconcile(key);
        assertThat(store.get(key).metadata().resourceVersion()).isEqualTo(tested.metadata().resourceVersion());

        store.delete(key);
        reconciler.reconcile(key);
        assertThat(meters.find("capstan.drift.detected").gauge()).isNull();
        assertThat(meters.find("capstan.drift.statistic").gauges()).isEmpty();
        assertThat(meters.find("capstan.drift.windows").counters()).isEmpty();
    }

    @Test
    void aMonitorOfAMissingInferenceServiceWaitsAndABadReferenceFails() {
        var missing = apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: nobody}
                spec:
                  inferenceService: nobody
                  reference: {uri: "file:///nowhere/x.csv", features: [a]}
                """);
        reconciler.reconcile(missing);
        assertThat(store.get(missing).status().phase()).isEqualTo("Pending");
        assertThat(store.get(missing).status().condition("Ready").orElseThrow().reason()).isEqualTo("InferenceServiceNotFound");
        var bad = apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: bad-column}
                spec:
                  inferenceService: iris
                  reference: {uri: "%s", features: [sepal_length, colour]}
                """.formatted(IRIS_CSV.toUri()));
        reconciler.reconcile(bad);
        var failed = store.get(bad).status();
        assertThat(failed.phase()).isEqualTo("Failed");
        assertThat(failed.condition("Ready").orElseThrow().message()).contains("spec.reference.features[1]", "'colour' is not a column");
    }
}
