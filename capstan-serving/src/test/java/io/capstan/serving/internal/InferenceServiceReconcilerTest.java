package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InferenceServiceReconcilerTest {
    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    ModelServer server;
    InferenceServiceReconciler reconciler;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(ServingKinds.all()));
    Path model;

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        server = new ModelServer(Duration.ofSeconds(1));
        reconciler = newReconciler(server);
        model = TestModels.irisOnnx(dir.resolve("models/iris"));
    }

    private InferenceServiceReconciler newReconciler(ModelServer target) {
        var storage = new ModelStorage(dir.resolve("cache"), null, b -> Optional.empty(), Duration.ofSeconds(30));
        return new InferenceServiceReconciler(store, target, storage, Runtimes.builtIn(), new SimpleMeterRegistry(),
                Clock.systemUTC(), "http://localhost:8080", dir.resolve("work"));
    }

    @AfterEach
    void tearDown() {
        server.close();
        db.close();
    }

    private ResourceKey apply(String yaml) {
        var resource = parser.parse("test.yaml", yaml).getFirst();
        return store.apply(resource).key();
    }

    private String isvc(String predictor) {
        return """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata:
                  name: iris
                spec:
                  predictor:
                """ + predictor.indent(4);
    }

    private String onnxAt(Path path) {
        return "model:\n  modelFormat:\n    name: onnx\n  storageUri: " + path.toUri() + "\n";
    }

    private static InferenceRequest oneRow() {
        return InferenceRequest.of(Tensor.ofFloats("input", new long[] {1, 4}, new float[] {5.1f, 3.5f, 1.4f, 0.2f}));
    }

    private Resource reconciled(ResourceKey key) {
        reconciler.reconcile(key);
        return store.get(key);
    }

    @Test
    void servesAnOnnxModelAndReportsReady() {
        var key = apply(isvc(onnxAt(model)));
        var isvc = reconciled(key);
        assertThat(isvc.status().phase()).isEqualTo("Ready");
        assertThat(isvc.status().condition("Ready").orElseThrow().status().name()).isEqualTo("True");
        assertThat(isvc.status().field("url").orElseThrow().asText()).isEqualTo("http://localhost:8080/serving/default");
        var predictor = isvc.status().field("components").orElseThrow().get("predictor");
        assertThat(predictor.get("latestReadyRevision").asText()).isEqualTo("iris-predictor-00001");
        assertThat(predictor.get("traffic").get(0).get("percent").asInt()).isEqualTo(100);
        var response = server.infer("iris", null, oneRow());
        assertThat(response.modelVersion()).isEqualTo("1");
        assertThat(response.output("probabilities").orElseThrow().floats())
                .containsExactly(TestModels.irisProbabilities(new float[] {5.1f, 3.5f, 1.4f, 0.2f}), org.assertj.core.data.Offset.offset(1e-5f));
        // a second reconcile with nothing changed creates no revision and writes nothing
        var version = isvc.metadata().resourceVersion();
        assertThat(reconciled(key).metadata().resourceVersion()).isEqualTo(version);
    }

    @Test
    void legacyShorthandAndPlainPathsWork() {
        var key = apply(isvc("onnx:\n  storageUri: " + model.getParent() + "\n"));
        assertThat(reconciled(key).status().phase()).isEqualTo("Ready");
        assertThat(server.infer("iris", null, oneRow()).outputs()).hasSize(2);
    }

    @Test
    void aSpecChangeCreatesARevisionThatReplacesTheOld() throws Exception {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        var other = TestModels.irisOnnx(dir.resolve("models/iris2"));
        var isvc = reconciled(apply(isvc(onnxAt(other))));
        assertThat(isvc.status().field("components").orElseThrow().get("predictor").get("latestReadyRevision").asText())
                .isEqualTo("iris-predictor-00002");
        assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("2");
        assertThat(reconciler.revisions(key)).containsOnlyKeys(2);
        assertThatThrownBy(() -> server.infer("iris", "1", oneRow())).isInstanceOf(ModelNotFoundException.class);
    }

    @Test
    void aRevisionThatFailsToLoadLeavesTheOldOneServing() {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        var isvc = reconciled(apply(isvc(onnxAt(dir.resolve("missing/model.onnx")))));
        assertThat(isvc.status().phase()).isEqualTo("Degraded");
        assertThat(isvc.status().condition("Ready").orElseThrow().status().name()).isEqualTo("True");
        var latest = isvc.status().condition("LatestDeploymentReady").orElseThrow();
        assertThat(latest.status().name()).isEqualTo("False");
        assertThat(latest.message()).contains("iris-predictor-00002", "does not exist");
        assertThat(isvc.status().field("modelStatus").orElseThrow().get("transitionStatus").asText()).isEqualTo("BlockedByFailedLoad");
        assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("1");
        // fixing the spec recovers
        var fixed = reconciled(apply(isvc(onnxAt(model) + "minReplicas: 1\n")));
        assertThat(fixed.status().phase()).isEqualTo("Ready");
        assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("3");
    }

    private String withComponent(String component) {
        return isvc(onnxAt(model)) + "  " + component + ":\n    containers:\n    - image: example.com/" + component + ":1\n";
    }

    @Test
    void aTransformerThatCannotRunIsNotSkipped_theServiceIsNotReadyAndSaysWhy() {
        var key = apply(withComponent("transformer"));
        var isvc = reconciled(key);
        assertThat(isvc.status().phase()).isEqualTo("Failed");
        var ready = isvc.status().condition("Ready").orElseThrow();
        assertThat(ready.status().name()).isEqualTo("False");
        assertThat(ready.message()).contains("spec.transformer.containers[0].command", "example.com/transformer:1");
        var transformer = isvc.status().condition("TransformerReady").orElseThrow();
        assertThat(transformer.status().name()).isEqualTo("False");
        assertThat(transformer.reason()).isEqualTo("RevisionFailed");
        assertThat(transformer.message()).contains("spec.transformer.containers[0]");
        assertThat(isvc.status().condition("ExplainerReady")).isEmpty();
        // no raw predictor output behind the transformer's back: 503 with the reason
        assertThatThrownBy(() -> server.infer("iris", null, oneRow()))
                .isInstanceOf(ModelNotReadyException.class).hasMessageContaining("spec.transformer");
        assertThat(reconciler.revisions(key)).isEmpty();

        // removing the transformer serves the predictor, and says the transformer is gone
        var fixed = reconciled(apply(isvc(onnxAt(model))));
        assertThat(fixed.status().phase()).isEqualTo("Ready");
        assertThat(fixed.status().condition("TransformerReady").orElseThrow().status().name()).isEqualTo("True");
        assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("2");
    }

    @Test
    void anExplainerIsNotSkipped_theServiceIsNotReadyAndSaysWhy() {
        var isvc = reconciled(apply(withComponent("explainer")));
        var ready = isvc.status().condition("Ready").orElseThrow();
        assertThat(ready.status().name()).isEqualTo("False");
        assertThat(ready.message()).contains("spec.explainer");
        assertThat(isvc.status().condition("ExplainerReady").orElseThrow().message()).startsWith("spec.explainer:");
        assertThatThrownBy(() -> server.infer("iris", null, oneRow()))
                .isInstanceOf(ModelNotReadyException.class).hasMessageContaining("spec.explainer");
    }

    @Test
    void addingATransformerToAServingServiceKeepsThePreviousRevisionAndReportsTheNewOneFailed() {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        var isvc = reconciled(apply(withComponent("transformer")));
        assertThat(isvc.status().phase()).isEqualTo("Degraded");
        var latest = isvc.status().condition("LatestDeploymentReady").orElseThrow();
        assertThat(latest.status().name()).isEqualTo("False");
        assertThat(latest.message()).contains("iris-predictor-00002", "spec.transformer");
        assertThat(isvc.status().condition("TransformerReady").orElseThrow().status().name()).isEqualTo("False");
        assertThat(server.infer("iris", null, oneRow()).modelVersion()).as("the revision without a transformer").isEqualTo("1");
    }

    @Test
    void canarySplitsTrafficThenPromotesOrRollsBack() throws Exception {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        var other = TestModels.irisOnnx(dir.resolve("models/iris2"));
        var isvc = reconciled(apply(isvc(onnxAt(other) + "canaryTrafficPercent: 30\n")));
        var traffic = isvc.status().field("components").orElseThrow().get("predictor").get("traffic");
        assertThat(traffic).hasSize(2);
        var counts = new HashMap<String, Integer>();
        for (int i = 0; i < 1000; i++) counts.merge(server.infer("iris", null, oneRow()).modelVersion(), 1, Integer::sum);
        assertThat(counts.get("2")).isBetween(200, 400);
        assertThat(counts.get("1")).isBetween(600, 800);
        assertThat(server.infer("iris", "2", oneRow()).modelVersion()).isEqualTo("2");

        // rollback: all traffic to the rolled-out revision, without a new revision
        reconciled(apply(isvc(onnxAt(other) + "canaryTrafficPercent: 0\n")));
        for (int i = 0; i < 50; i++) assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("1");

        // promotion: drop the canary percentage
        var promoted = reconciled(apply(isvc(onnxAt(other))));
        assertThat(promoted.status().field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(2);
        for (int i = 0; i < 50; i++) assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("2");
        assertThat(reconciler.revisions(key)).containsOnlyKeys(2);
    }

    @Test
    void shadowAnnotationMirrorsToTheNewRevisionAndLogsItsAnswers() throws Exception {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        var other = TestModels.irisOnnx(dir.resolve("models/iris2"));
        var log = dir.resolve("payloads.jsonl");
        var yaml = isvc(onnxAt(other) + "logger:\n  url: " + log.toUri() + "\n  mode: response\n")
                .replace("  name: iris\n", "  name: iris\n  annotations:\n    serving.capstan.io/shadow-percent: \"100\"\n");
        var isvc = reconciled(apply(yaml));
        assertThat(isvc.status().field("components").orElseThrow().get("predictor").get("shadow").get("percent").asInt()).isEqualTo(100);
        for (int i = 0; i < 20; i++) assertThat(server.infer("iris", null, oneRow()).modelVersion()).isEqualTo("1");
        waitUntil(() -> lines(log).stream().filter(l -> l.contains("\"shadow\":true")).count() >= 20);
        assertThat(lines(log)).anyMatch(l -> l.contains("\"revision\":\"2\"") && l.contains("\"shadow\":true"));
        assertThat(lines(log)).anyMatch(l -> l.contains("\"revision\":\"1\"") && l.contains("\"shadow\":false"));
    }

    static java.util.List<String> lines(Path file) {
        try {
            return java.nio.file.Files.exists(file) ? java.nio.file.Files.readAllLines(file) : java.util.List.of();
        } catch (java.io.IOException e) {
            return java.util.List.of();
        }
    }

    static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 30s");
            Thread.sleep(20);
        }
    }

    @Test
    void unservableFormatsFailWithWhatToDoInstead() {
        var isvc = reconciled(apply(isvc("sklearn:\n  storageUri: gs://kfserving-examples/models/sklearn/1.0/model\n")));
        assertThat(isvc.status().phase()).isEqualTo("Failed");
        assertThat(isvc.status().condition("Ready").orElseThrow().message()).contains("skl2onnx", "modelFormat onnx");
        assertThatThrownBy(() -> server.infer("iris", null, oneRow())).isInstanceOf(ModelNotReadyException.class)
                .hasMessageContaining("skl2onnx");
    }

    @Test
    void unreachableSchemesFailAtOnce() {
        long start = System.nanoTime();
        var isvc = reconciled(apply(isvc("model:\n  modelFormat: {name: onnx}\n  storageUri: gs://bucket/model.onnx\n")));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(isvc.status().condition("Ready").orElseThrow().message()).contains("gs://", "s3://");
        var s3 = reconciled(apply(isvc("model:\n  modelFormat: {name: onnx}\n  storageUri: s3://bucket/model.onnx\n")));
        assertThat(s3.status().condition("Ready").orElseThrow().message()).contains("no S3 settings for bucket 'bucket'");
    }

    @Test
    void namedRuntimesMustExistAndServeTheFormat() {
        var missing = reconciled(apply(isvc("model:\n  modelFormat: {name: onnx}\n  runtime: kserve-tritonserver\n  storageUri: "
                + model.toUri() + "\n")));
        assertThat(missing.status().condition("Ready").orElseThrow().message()).contains("runtime 'kserve-tritonserver' does not exist");
        apply("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: ServingRuntime
                metadata: {name: my-onnx}
                spec:
                  supportedModelFormats:
                    - {name: onnx, version: "1", autoSelect: true, priority: 5}
                  containers: [{name: server, image: example/onnx-server}]
                """);
        var named = reconciled(apply(isvc("model:\n  modelFormat: {name: onnx}\n  runtime: my-onnx\n  storageUri: " + model.toUri() + "\n")));
        assertThat(named.status().phase()).isEqualTo("Ready");
        var wrongFormat = reconciled(apply(isvc("model:\n  modelFormat: {name: xgboost}\n  runtime: my-onnx\n  storageUri: "
                + model.toUri() + "\n")));
        assertThat(wrongFormat.status().condition("LatestDeploymentReady").orElseThrow().message())
                .contains("does not list model format xgboost");
    }

    @Test
    void aRestartedServerLoadsTheRecordedRevisionsAgain() {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        var restarted = new ModelServer(Duration.ofSeconds(1));
        try {
            var again = newReconciler(restarted);
            again.reconcile(key);
            assertThat(restarted.infer("iris", null, oneRow()).modelVersion()).isEqualTo("1");
            assertThat(store.get(key).status().field("revisions").orElseThrow()).hasSize(1);
        } finally {
            restarted.close();
        }
    }

    @Test
    void deletingTheServiceStopsServingIt() {
        var key = apply(isvc(onnxAt(model)));
        reconciled(key);
        store.delete(key);
        reconciler.reconcile(key);
        assertThatThrownBy(() -> server.infer("iris", null, oneRow())).isInstanceOf(ModelNotFoundException.class);
        assertThat(reconciler.revisions(key)).isEmpty();
    }

    @Test
    void namespacesKeepModelsApart() {
        var key = store.apply(parser.parse("t.yaml", isvc(onnxAt(model)), "team-a").getFirst()).key();
        reconciler.reconcile(key);
        assertThat(server.infer("team-a", "iris", null, oneRow()).modelVersion()).isEqualTo("1");
        assertThatThrownBy(() -> server.infer("iris", null, oneRow())).isInstanceOf(ModelNotFoundException.class);
        assertThat(store.get(key).status().field("url").orElseThrow().asText()).endsWith("/serving/team-a");
        assertThat(Map.of()).isEmpty();
    }
}
