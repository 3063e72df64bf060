package io.capstan.monitoring.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.monitoring.MonitoringKinds;
import io.capstan.monitoring.ReferenceResolver;
import io.capstan.monitoring.RetrainingHooks;
import io.capstan.serving.Serving;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference datasets in every form a ModelMonitor reads, on a real store, a real served model and a real S3-protocol
 * server: a Parquet file written by pyarrow and objects in S3 (CSV and Parquet) give exactly the statistics of the
 * CSV file they hold; a bad dataset fails the monitor with a message naming spec.reference.uri.
 */
class ModelMonitorReferencesTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();
    static final Path PARQUET = Path.of("src", "test", "resources", "reference", "iris.parquet").toAbsolutePath();
    static final Path PARQUET_NULLS = Path.of("src", "test", "resources", "reference", "iris-nulls.parquet").toAbsolutePath();

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    S3ArtifactStore bucket;
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ModelMonitorReconcilerTest.TestClock clock = new ModelMonitorReconcilerTest.TestClock();
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
        bucket = new S3ArtifactStore(S3.newBucketSettings(), clock);
        bucket.createBucketIfMissing();
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), clock, meters, "http://localhost:8080",
                Serving.Options.defaults());
        reconciler = new ModelMonitorReconciler(store, serving, meters, clock, null, RetrainingHooks.NONE, ArtifactLocator.of(bucket),
                ReferenceResolver.NONE);
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
        bucket.close();
        db.close();
    }

    ResourceKey apply(String yaml) {
        return store.apply(parser.parse("t.yaml", yaml).getFirst()).key();
    }

    ResourceKey monitor(String name, String uri, String... features) {
        return apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: %s}
                spec:
                  inferenceService: iris
                  reference: {uri: "%s", features: %s}
                  window: {rows: 60}
                  predictions: false
                """.formatted(name, uri, features.length == 0 ? "[sepal_length, sepal_width, petal_length, petal_width]" : List.of(features)));
    }

    @Test
    void parquetAndS3ReferencesGiveExactlyTheStatisticsOfTheCsvTheyHold() throws Exception {
        bucket.put("refs/iris.csv", Files.newInputStream(ModelMonitorReconcilerTest.IRIS_CSV));
        bucket.put("refs/iris.parquet", Files.newInputStream(PARQUET));
        var s3 = "s3://" + bucket.bucket() + "/";
        var keys = List.of(monitor("csv", ModelMonitorReconcilerTest.IRIS_CSV.toUri().toString()), monitor("parquet", PARQUET.toUri().toString()),
                monitor("s3-csv", s3 + "refs/iris.csv"), monitor("s3-parquet", s3 + "refs/iris.parquet"),
                monitor("capstan-parquet", "capstan://artifacts/refs/iris.parquet"));
        keys.forEach(reconciler::reconcile);
        for (int r = 0; r < 60; r++) {
            var row = new float[] {5.0f + (r % 7) * 0.2f, 3.0f + (r % 5) * 0.1f, 1.5f + (r % 9) * 0.5f, 0.3f + (r % 3) * 0.6f};
            serving.endpoint().infer("default", "iris", null, InferenceRequest.of(Tensor.ofFloats("input", new long[] {1, 4}, row)));
        }
        clock.now = clock.now.plusSeconds(10);
        keys.forEach(reconciler::reconcile);
        var csv = store.get(keys.getFirst()).status();
        assertThat(csv.phase()).as(csv.toString()).isIn("Drifted", "NoDrift");
        JsonNode expected = csv.field("features").orElseThrow();
        assertThat(expected).hasSize(4);
        for (var key : keys.subList(1, keys.size())) {
            var status = store.get(key).status();
            assertThat(status.phase()).as(key.name() + " " + status).isEqualTo(csv.phase());
            assertThat(status.field("reference").orElseThrow().path("rows").asInt()).isEqualTo(150);
            assertThat(status.field("features").orElseThrow()).as(key.name()).isEqualTo(expected);
        }
        assertThat(store.get(keys.get(3)).status().field("reference").orElseThrow().path("source").asText()).isEqualTo(s3 + "refs/iris.parquet");
        // what a canary's inputDrift check of iris is compared with: a monitor's reference, of the input's width only
        var reference = reconciler.referenceOf("default", "iris", 4).orElseThrow();
        assertThat(reference).hasNumberOfRows(4);
        assertThat(reference[2]).hasSize(150).startsWith(1.4, 1.4, 1.3);
        assertThat(reconciler.referenceOf("default", "iris", 3)).isEmpty();
        assertThat(reconciler.referenceOf("other", "iris", 4)).isEmpty();
        // data freshness of an S3 reference: the object's write time
        var age = meters.find("capstan.reference.age.seconds").tag("monitor", "s3-parquet").gauge();
        assertThat(age.value()).isFinite().isBetween(-60.0, 3600.0);
    }

    @Test
    void aBadDatasetFailsTheMonitorNamingTheUriAndWhatIsWrong() throws Exception {
        bucket.put("refs/nulls.parquet", Files.newInputStream(PARQUET_NULLS));
        var s3 = "s3://" + bucket.bucket() + "/";
        var cases = new java.util.LinkedHashMap<ResourceKey, String>();
        cases.put(monitor("nulls", s3 + "refs/nulls.parquet"), "row 3 of " + s3 + "refs/nulls.parquet: column 'petal_length' is null");
        cases.put(monitor("strings", PARQUET.toUri().toString(), "sepal_length", "species"), "column 'species' of");
        cases.put(monitor("no-column", PARQUET.toUri().toString(), "sepal_length", "colour"), "'colour' is not a column of");
        cases.put(monitor("missing", s3 + "refs/nowhere.parquet"), s3 + "refs/nowhere.parquet does not exist");
        cases.put(monitor("other-bucket", "s3://capstan-no-such-bucket/x.csv"), "spec.reference.uri");
        cases.put(monitor("mlmd", "mlmd://artifacts/7"), "spec.reference.uri: mlmd://artifacts/7: this server cannot resolve mlmd:// references");
        var notParquet = dir.resolve("truncated.parquet");
        Files.write(notParquet, java.util.Arrays.copyOf(Files.readAllBytes(PARQUET), 100));
        cases.put(monitor("truncated", notParquet.toUri().toString()), "is not a readable Parquet file");
        cases.forEach((key, message) -> {
            reconciler.reconcile(key);
            var status = store.get(key).status();
            assertThat(status.phase()).as(key.name()).isEqualTo("Failed");
            var ready = status.condition("Ready").orElseThrow();
            assertThat(ready.reason()).as(key.name()).isEqualTo("ReferenceInvalid");
            assertThat(ready.message()).as(key.name()).contains(message);
        });
        assertThat(store.get(cases.keySet().stream().filter(k -> k.name().equals("strings")).findFirst().orElseThrow()).status()
                .condition("Ready").orElseThrow().message()).contains("BINARY, not a number");
    }
}
