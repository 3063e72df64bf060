package io.capstan.serving.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.Serving;
import io.capstan.serving.TestHttp;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KServe's multi-model serving sample (docs/samples/multimodelserving/sklearn, read in place): TrainedModels on an InferenceService. */
class TrainedModelTest {
    static final Path SAMPLE = Path.of("/work/shared/conformance/kserve/docs/samples/multimodelserving/sklearn");
    static final String SAMPLE_URI = "gs://kfserving-examples/models/sklearn/1.0/model";

    @TempDir
    static Path shared;
    static Path irisModel;

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    @BeforeAll
    static void trainIris() throws Exception {
        assumeTrue(PythonServingTest.python("import sklearn, numpy, joblib") == 0, "needs python3 with scikit-learn");
        irisModel = shared.resolve("iris");
        Files.createDirectories(irisModel);
        assertThat(PythonServingTest.python("""
                import sys, joblib
                from sklearn import datasets, svm
                X, y = datasets.load_iris(return_X_y=True)
                joblib.dump(svm.SVC(gamma="scale").fit(X, y), sys.argv[1] + "/model.joblib")
                """, irisModel.toString())).isZero();
    }

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
        http = new TestHttp(serving.httpService());
    }

    @AfterEach
    void tearDown() {
        if (http != null) http.close();
        if (serving != null) serving.close();
        if (db != null) db.close();
    }

    private ResourceKey apply(String yaml) {
        return store.apply(parser.parse("t.yaml", yaml).getFirst()).key();
    }

    private Resource isvc(String yaml) {
        var key = apply(yaml);
        serving.reconciler().reconcile(key);
        return store.get(key);
    }

    private Resource trainedModel(String yaml) {
        var key = apply(yaml);
        serving.trainedModelReconciler().reconcile(key);
        return store.get(key);
    }

    private static JsonNode json(String text) throws Exception {
        return Json.json().readTree(text);
    }

    @Test
    void kservesMultiModelSampleServesEachTrainedModelUnderItsOwnName() throws Exception {
        assumeTrue(Files.isDirectory(SAMPLE), "KServe's samples in /work/shared/conformance");
        var host = isvc(Files.readString(SAMPLE.resolve("inferenceservice.yaml")));
        assertThat(host.status().phase()).as(host.status().toString()).isEqualTo("Ready");
        var own = http.post("/v1/models/sklearn-iris-example:predict", "{\"instances\": [[6.8, 2.8, 4.8, 1.4]]}");
        assertThat(own.statusCode()).isEqualTo(404);
        assertThat(json(own.body()).get("error").asText()).contains("TrainedModels");

        var documents = Files.readString(SAMPLE.resolve("trainedmodels.yaml")).replace(SAMPLE_URI, irisModel.toString()).split("(?m)^---$");
        assertThat(documents).hasSize(2);
        for (var doc : documents) {
            var tm = trainedModel(doc);
            assertThat(tm.status().phase()).as(tm.status().toString()).isEqualTo("Ready");
            for (var type : new String[] {"InferenceServiceReady", "IsMMSPredictor", "FrameworkSupported", "MemoryResourceAvailable", "Ready"}) {
                assertThat(tm.status().condition(type).orElseThrow().status().name()).as(type).isEqualTo("True");
            }
            assertThat(tm.status().field("url").orElseThrow().asText())
                    .isEqualTo("http://localhost:8080/serving/default/v1/models/" + tm.metadata().name());
        }
        var v1 = http.post("/v1/models/model1-sklearn:predict", "{\"instances\": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}");
        assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
        assertThat(json(v1.body()).get("predictions").toString()).isEqualTo("[1,1]");
        var v2 = http.post("/v2/models/model2-sklearn/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [5.1, 3.5, 1.4, 0.2]}]}");
        assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
        assertThat(json(v2.body()).get("outputs").get(0).get("data").toString()).isEqualTo("[0]");

        // deleting a TrainedModel unloads it; the other keeps serving
        var key = new ResourceKey("TrainedModel", "default", "model1-sklearn");
        store.delete(key);
        serving.trainedModelReconciler().reconcile(key);
        assertThat(http.post("/v1/models/model1-sklearn:predict", "{\"instances\": [[6.8, 2.8, 4.8, 1.4]]}").statusCode()).isEqualTo(404);
        assertThat(http.post("/v1/models/model2-sklearn:predict", "{\"instances\": [[6.8, 2.8, 4.8, 1.4]]}").statusCode()).isEqualTo(200);
    }

    private static String tm(String name, String isvc, String framework, String storage) {
        return """
                apiVersion: serving.kserve.io/v1alpha1
                kind: TrainedModel
                metadata: {name: %s}
                spec:
                  inferenceService: %s
                  model: {storageUri: "%s", framework: %s, memory: 256Mi}
                """.formatted(name, isvc, storage, framework);
    }

    @Test
    void whatCannotBeServedIsRefusedWithKServesConditions() {
        var missing = trainedModel(tm("orphan", "no-such-isvc", "sklearn", irisModel.toString()));
        assertThat(missing.status().phase()).isEqualTo("Pending");
        assertThat(missing.status().condition("InferenceServiceReady").orElseThrow().reason()).isEqualTo("InferenceServiceNotFound");

        var single = isvc("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: single}
                spec:
                  predictor:
                    sklearn: {storageUri: %s}
                """.formatted(irisModel));
        assertThat(single.status().phase()).isEqualTo("Ready");
        var notMms = trainedModel(tm("on-single", "single", "sklearn", irisModel.toString()));
        assertThat(notMms.status().condition("IsMMSPredictor").orElseThrow().message()).contains("storageUri");

        var host = isvc("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: host}
                spec:
                  predictor:
                    sklearn: {}
                """);
        assertThat(host.status().phase()).isEqualTo("Ready");
        var wrongFramework = trainedModel(tm("xgb", "host", "xgboost", irisModel.toString()));
        assertThat(wrongFramework.status().condition("FrameworkSupported").orElseThrow().status().name()).isEqualTo("False");
        assertThat(wrongFramework.status().condition("Ready").orElseThrow().message()).contains("xgboost", "sklearn");

        var taken = trainedModel(tm("single", "host", "sklearn", irisModel.toString()));
        assertThat(taken.status().condition("Ready").orElseThrow().reason()).isEqualTo("NameInUse");

        var badModel = trainedModel(tm("bad", "host", "sklearn", dir.resolve("nothing-here").toString()));
        assertThat(badModel.status().phase()).isEqualTo("Failed");
        assertThat(badModel.status().condition("Ready").orElseThrow().reason()).isEqualTo("ModelLoadFailed");

        assertThatThrownBy(() -> apply("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: TrainedModel
                metadata: {name: no-memory}
                spec:
                  inferenceService: host
                  model: {storageUri: /m, framework: sklearn}
                """)).hasMessageContaining("spec.model.memory");
    }
}
