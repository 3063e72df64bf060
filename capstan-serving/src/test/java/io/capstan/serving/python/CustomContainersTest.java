package io.capstan.serving.python;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.Resource;
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
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KServe custom predictors and transformers ({@code kserve.Model} programs in {@code containers}) run as supervised
 * host processes on Capstan's kserve shim, proxied with revisions, canary traffic and the transformer → predictor chain.
 */
class CustomContainersTest {
    @TempDir
    static Path shared;
    static Path samples;
    static Path irisModel;

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(java.util.stream.Stream.concat(Serving.kinds().stream(),
            io.capstan.core.CoreKinds.all().stream()).toList()));

    @BeforeAll
    static void samplesAndIris() throws Exception {
        assumeTrue(PythonServingTest.python("import sklearn, numpy, joblib") == 0, "needs python3 with numpy and scikit-learn");
        samples = shared.resolve("samples");
        Files.createDirectories(samples);
        for (var name : List.of("scale_model.py", "tensor_model.py", "iris_transformer.py")) {
            try (var in = CustomContainersTest.class.getResourceAsStream("/kserve-samples/" + name)) {
                Files.write(samples.resolve(name), in.readAllBytes());
            }
        }
        irisModel = shared.resolve("iris");
        Files.createDirectories(irisModel);
        assertThat(PythonServingTest.python("""
                import sys, joblib
                from sklearn import datasets
                from sklearn.linear_model import LogisticRegression
                X, y = datasets.load_iris(return_X_y=True)
                joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), sys.argv[1] + "/model.pkl")
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

    private Resource reconciled(String yaml) {
        var key = store.apply(parser.parse("t.yaml", yaml).getFirst()).key();
        serving.reconciler().reconcile(key);
        return store.get(key);
    }

    private static JsonNode json(String text) throws Exception {
        return Json.json().readTree(text);
    }

    private Path factor(String name, double value) throws Exception {
        var folder = dir.resolve(name);
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("factor.txt"), Double.toString(value));
        return folder;
    }

    private static String scaleIsvc(Path storage, String extra) {
        return """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: custom-model}
                spec:
                  predictor:
                %s
                    containers:
                    - name: kserve-container
                      image: example.com/custom-model:v1
                      command: [python3, %s]
                      args: [--model_dir=/mnt/models, --http_port=8080]
                      env:
                      - {name: STORAGE_URI, value: "%s"}
                """.formatted(extra.indent(4).stripTrailing(), samples.resolve("scale_model.py"), storage);
    }

    @Test
    void aCustomPredictorGetsKServesContractAndKeepsRevisionsAndCanaryTraffic() throws Exception {
        var isvc = reconciled(scaleIsvc(factor("two", 2), ""));
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        var answer = http.post("/v1/models/custom-model:predict", "{\"instances\": [[1, 2], [3, 4]]}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        // /mnt/models in the arguments is the model folder that STORAGE_URI named
        assertThat(json(answer.body()).get("predictions").toString()).isEqualTo("[[2.0,4.0],[6.0,8.0]]");

        // a new revision with canary traffic: both processes answer, split as asked
        var canary = reconciled(scaleIsvc(factor("three", 3), "canaryTrafficPercent: 50"));
        assertThat(canary.status().field("components").orElseThrow().get("predictor").get("traffic")).hasSize(2);
        var seen = new HashMap<String, Integer>();
        for (int i = 0; i < 60; i++) {
            var response = http.post("/v1/models/custom-model:predict", "{\"instances\": [[1]]}");
            assertThat(response.statusCode()).isEqualTo(200);
            seen.merge(json(response.body()).get("predictions").get(0).get(0).asText(), 1, Integer::sum);
        }
        assertThat(seen).containsOnlyKeys("2.0", "3.0");
        assertThat(seen.get("3.0")).isBetween(10, 50);

        // promotion retires the first revision and its process
        var promoted = reconciled(scaleIsvc(factor("three", 3), ""));
        assertThat(promoted.status().field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(2);
        assertThat(json(http.post("/v1/models/custom-model:predict", "{\"instances\": [[1]]}").body()).get("predictions").get(0).get(0)
                .asDouble()).isEqualTo(3.0);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (countProcesses("scale_model.py") > 1 && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(countProcesses("scale_model.py")).isEqualTo(1);
    }

    @Test
    void aCustomContainerReadsItsSecretThroughAVolumeAndTheMissingOneIsNamed() throws Exception {
        var isvc = """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: custom-model}
                spec:
                  predictor:
                    volumes:
                    - {name: factor, secret: {secretName: model-factor}}
                    containers:
                    - name: kserve-container
                      image: example.com/custom-model:v1
                      command: [python3, %s]
                      args: [--model_dir=/mnt/factor, --http_port=8080]
                      volumeMounts:
                      - {name: factor, mountPath: /mnt/factor, readOnly: true}
                      env:
                      - name: FACTOR_AGAIN
                        valueFrom: {secretKeyRef: {name: model-factor, key: factor.txt}}
                """.formatted(samples.resolve("scale_model.py"));
        var missing = reconciled(isvc);
        assertThat(missing.status().phase()).isNotEqualTo("Ready");
        assertThat(missing.status().toString()).contains("model-factor");

        store.apply(parser.parse("s.yaml", """
                apiVersion: v1
                kind: Secret
                metadata: {name: model-factor}
                stringData: {factor.txt: "5"}
                """).getFirst());
        var ready = reconciled(isvc.replace("      env:\n", "      env:\n      - {name: REVISION, value: \"2\"}\n"));
        assertThat(ready.status().phase()).as(ready.status().toString()).isEqualTo("Ready");
        var answer = http.post("/v1/models/custom-model:predict", "{\"instances\": [[1, 2]]}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(json(answer.body()).get("predictions").toString()).isEqualTo("[[5.0,10.0]]");
    }

    private static long countProcesses(String marker) {
        return ProcessHandle.current().descendants()
                .filter(p -> p.isAlive() && p.info().commandLine().map(c -> c.contains(marker)).orElse(false)).count();
    }

    @Test
    void anAsyncCustomPredictorAnswersOipV2Tensors() throws Exception {
        var isvc = reconciled("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: square}
                spec:
                  predictor:
                    containers:
                    - name: kserve-container
                      image: example.com/square:v1
                      command: [python3, -m, tensor_model]
                      workingDir: %s
                """.formatted(samples));
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        var v2 = http.post("/v2/models/square/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"FP32\", \"data\": [1, 2, 3, 4]}]}");
        assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
        var out = json(v2.body()).get("outputs").get(0);
        assertThat(out.get("name").asText()).isEqualTo("squared");
        assertThat(out.get("datatype").asText()).isEqualTo("FP32");
        assertThat(out.get("shape").toString()).isEqualTo("[2,2]");
        assertThat(out.get("data").toString()).isEqualTo("[1.0,4.0,9.0,16.0]");
        var missing = http.post("/v1/models/square:predict", "{\"rows\": [[1]]}");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(json(missing.body()).get("error").asText()).isEqualTo("instances: is required");
    }

    @Test
    void aContainerWithoutACommandOrWithAMissingOneIsRefusedAtOnceWithTheReason() {
        var noCommand = reconciled("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: image-only}
                spec:
                  predictor:
                    containers: [{name: kserve-container, image: example.com/model:v1}]
                """);
        assertThat(noCommand.status().phase()).isEqualTo("Failed");
        assertThat(noCommand.status().condition("Ready").orElseThrow().message())
                // why it could not run in a container: no engine, or (here) the image cannot be pulled
                .contains("spec.predictor.containers[0].command: is required here: image example.com/model:v1 has no command",
                        "cannot run in a container: ", "give the container a command");
        var missing = reconciled("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: no-such-command}
                spec:
                  predictor:
                    containers: [{name: kserve-container, image: example.com/model:v1, command: [no-such-model-server]}]
                """);
        assertThat(missing.status().condition("Ready").orElseThrow().message()).contains("no-such-model-server", "does not exist");
    }

    private String transformerIsvc(String protocol) {
        return """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    sklearn: {storageUri: %s}
                  transformer:
                    containers:
                    - name: kserve-container
                      image: example.com/iris-transformer:v1
                      command: [python3, %s]
                      args: [--predictor_host, iris-predictor.default, --protocol, %s]
                """.formatted(irisModel, samples.resolve("iris_transformer.py"), protocol);
    }

    @Test
    void aTransformerPreprocessesCallsThePredictorThroughCapstanAndPostprocesses() throws Exception {
        for (var protocol : List.of("v1", "v2")) {
            var isvc = reconciled(transformerIsvc(protocol));
            assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
            assertThat(isvc.status().condition("TransformerReady").orElseThrow().status().name()).isEqualTo("True");
            assertThat(isvc.status().field("components").orElseThrow().has("transformer")).isTrue();
            var answer = http.post("/v1/models/iris:predict", """
                    {"instances": [
                      {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
                      {"sepal_length": 6.8, "sepal_width": 2.8, "petal_length": 4.8, "petal_width": 1.4},
                      {"sepal_length": 7.7, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.3}]}
                    """);
            assertThat(answer.statusCode()).as(protocol + ": " + answer.body()).isEqualTo(200);
            assertThat(json(answer.body()).get("predictions").toString()).as(protocol)
                    .isEqualTo("[\"setosa\",\"versicolor\",\"virginica\"]");
            // a predictor error comes back through the transformer with the predictor's reason
            var bad = http.post("/v1/models/iris:predict", "{\"instances\": [{\"sepal_length\": \"x\", \"sepal_width\": 1, "
                    + "\"petal_length\": 1, \"petal_width\": 1}]}");
            assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        }
        // the predictor is not reachable past its transformer: one served model, the transformer's
        var processes = ProcessHandle.current().descendants().filter(p -> p.isAlive()).map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("iris_transformer.py") || c.contains("sklearnserver")).toList();
        assertThat(processes).hasSize(2);
        serving.close();
        serving = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline && ProcessHandle.current().descendants().anyMatch(p -> p.isAlive()
                && p.info().commandLine().map(c -> c.contains("iris_transformer.py") || c.contains("sklearnserver")).orElse(false))) {
            Thread.sleep(50);
        }
        assertThat(ProcessHandle.current().descendants().filter(p -> p.isAlive())
                .map(p -> p.info().commandLine().orElse("")).filter(c -> c.contains("iris_transformer.py") || c.contains("sklearnserver")))
                .as("closing serving stops the transformer and its predictor").isEmpty();
    }

    @Test
    void aServingRuntimeWithACommandServesItsModelsAsProcesses() throws Exception {
        var applied = store.apply(parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1alpha1
                kind: ServingRuntime
                metadata: {name: scale-runtime}
                spec:
                  supportedModelFormats:
                  - {name: scale, version: "1", autoSelect: true}
                  containers:
                  - name: kserve-container
                    image: example.com/scale-runtime:v1
                    command: [python3, %s]
                    args:
                    - "--model_name={{.Name}}"
                    - --model_dir=/mnt/models
                    - --http_port=8080
                """.formatted(samples.resolve("scale_model.py"))).getFirst());
        assertThat(applied.key().name()).isEqualTo("scale-runtime");
        // scale_model.py serves the name "custom-model" whatever --model_name says, as the docs' sample does
        var isvc = reconciled("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: custom-model}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: scale, version: "1"}
                      storageUri: %s
                """.formatted(factor("five", 5)));
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        var answer = http.post("/v1/models/custom-model:predict", "{\"instances\": [[1, 2]]}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(json(answer.body()).get("predictions").toString()).isEqualTo("[[5.0,10.0]]");
        assertThat(countProcesses("scale_model.py")).isEqualTo(1);
    }

    @Test
    void explainersStayRefusedWithTheReason() {
        var isvc = reconciled("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: explained}
                spec:
                  predictor:
                    sklearn: {storageUri: %s}
                  explainer:
                    containers: [{name: explainer, image: example.com/alibi:v1}]
                """.formatted(irisModel));
        assertThat(isvc.status().phase()).isEqualTo("Failed");
        assertThat(isvc.status().condition("ExplainerReady").orElseThrow().message()).startsWith("spec.explainer:")
                .contains("Alibi", "pip");
    }
}
