package io.capstan.serving.python;

import static org.assertj.core.api.Assertions.assertThat;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scikit-learn, custom kserve.Model predictors and transformers served by supervised Python processes, end to end:
 * resources in, real processes on Debian's python3-sklearn, OIP v2 and V1 over real HTTP out.
 */
class PythonServingTest {
    @TempDir
    static Path shared;
    static Path irisModel;
    static JsonNode expected;

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    /** Trains an iris classifier with scikit-learn itself and records its own predictions, to compare with. */
    @BeforeAll
    static void trainIris() throws Exception {
        assumeTrue(python("import sklearn, numpy, joblib") == 0, "needs python3 with scikit-learn (Debian: python3-sklearn)");
        irisModel = shared.resolve("iris");
        Files.createDirectories(irisModel);
        var script = """
                import json, sys, joblib
                from sklearn import datasets
                from sklearn.linear_model import LogisticRegression
                X, y = datasets.load_iris(return_X_y=True)
                model = LogisticRegression(max_iter=1000).fit(X, y)
                joblib.dump(model, sys.argv[1] + "/model.joblib")
                json.dump({"X": X.tolist(), "predict": model.predict(X).tolist(),
                           "proba": model.predict_proba(X).tolist()}, open(sys.argv[1] + "/expected.json", "w"))
                """;
        assertThat(python(script, irisModel.toString())).isZero();
        expected = Json.json().readTree(irisModel.resolve("expected.json").toFile());
        Files.delete(irisModel.resolve("expected.json"));
    }

    static int python(String script, String... args) throws Exception {
        var command = new ArrayList<>(List.of(PythonInterpreter.command(), "-c", script));
        command.addAll(List.of(args));
        var process = new ProcessBuilder(command).inheritIO().start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        return process.exitValue();
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

    private static String sklearnIsvc(String name, String extra) {
        return """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: %s}
                spec:
                  predictor:
                    sklearn:
                      storageUri: %s
                """.formatted(name, irisModel) + extra.indent(6);
    }

    private static JsonNode json(String text) throws Exception {
        return Json.json().readTree(text);
    }

    private static String rows(JsonNode x) {
        return x.toString();
    }

    @Test
    void sklearnPredictionsOverV2AndV1AreScikitLearnsOwn() throws Exception {
        var isvc = reconciled(sklearnIsvc("iris", ""));
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        assertThat(http.get("/v2/models/iris/ready").statusCode()).isEqualTo(200);

        var x = expected.get("X");
        var flat = new ArrayList<Double>();
        x.forEach(row -> row.forEach(v -> flat.add(v.asDouble())));
        var v2 = http.post("/v2/models/iris/infer", """
                {"id": "r1", "inputs": [{"name": "input-0", "shape": [%d, 4], "datatype": "FP64", "data": %s}]}
                """.formatted(x.size(), flat));
        assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
        var output = json(v2.body()).get("outputs").get(0);
        assertThat(output.get("datatype").asText()).isEqualTo("INT64");
        assertThat(output.get("shape").toString()).isEqualTo("[" + x.size() + "]");
        assertThat(output.get("data")).isEqualTo(expected.get("predict"));
        assertThat(json(v2.body()).get("model_version").asText()).isEqualTo("1");

        var v1 = http.post("/v1/models/iris:predict", "{\"instances\": " + rows(x) + "}");
        assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
        assertThat(json(v1.body()).get("predictions")).isEqualTo(expected.get("predict"));
        // the namespaced form addresses the same model
        assertThat(http.post("/serving/default/v1/models/iris:predict", "{\"instances\": [" + x.get(0) + "]}").statusCode()).isEqualTo(200);
    }

    @Test
    void predictProbaAnswersProbabilitiesAsKServesSklearnServerDoes() throws Exception {
        var isvc = reconciled(sklearnIsvc("iris-proba", "env:\n- {name: PREDICT_PROBA, value: \"true\"}\n"));
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        var x = expected.get("X");
        var v2 = http.post("/v2/models/iris-proba/infer", """
                {"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [%s, %s]}]}
                """.formatted(x.get(0).toString().replaceAll("[\\[\\]]", ""), x.get(100).toString().replaceAll("[\\[\\]]", "")));
        assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
        var output = json(v2.body()).get("outputs").get(0);
        assertThat(output.get("datatype").asText()).isEqualTo("FP64");
        assertThat(output.get("shape").toString()).isEqualTo("[2,3]");
        var want = new ArrayList<Double>();
        expected.get("proba").get(0).forEach(v -> want.add(v.asDouble()));
        expected.get("proba").get(100).forEach(v -> want.add(v.asDouble()));
        for (int i = 0; i < 6; i++) {
            // FP32 inputs: the same probabilities as scikit-learn's on the FP64 rows, to float precision
            assertThat(output.get("data").get(i).asDouble()).isCloseTo(want.get(i), org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    @Test
    void malformedAndOversizedInputsAre4xxNamingTheField() throws Exception {
        var isvc = reconciled(sklearnIsvc("iris", "").replace("metadata: {name: iris}",
                "metadata: {name: iris, annotations: {serving.capstan.io/max-request-bytes: \"2048\"}}"));
        assertThat(isvc.status().phase()).isEqualTo("Ready");
        var wrongWidth = http.post("/v1/models/iris:predict", "{\"instances\": [[1, 2]]}");
        assertThat(wrongWidth.statusCode()).isEqualTo(400);
        assertThat(json(wrongWidth.body()).get("error").asText()).startsWith("instances:").contains("2 features");
        var notAList = http.post("/v1/models/iris:predict", "{\"instances\": \"x\"}");
        assertThat(notAList.statusCode()).isEqualTo(400);
        assertThat(json(notAList.body()).get("error").asText()).contains("instances");
        var ragged = http.post("/v1/models/iris:predict", "{\"instances\": [[1, 2, 3, 4], [1]]}");
        assertThat(ragged.statusCode()).isEqualTo(400);
        assertThat(json(ragged.body()).get("error").asText()).startsWith("instances");
        var v2Width = http.post("/v2/models/iris/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}");
        assertThat(v2Width.statusCode()).isEqualTo(400);
        assertThat(json(v2Width.body()).get("error").asText()).startsWith("inputs[0].data:");
        var shapeMismatch = http.post("/v2/models/iris/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 4], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}");
        assertThat(shapeMismatch.statusCode()).isEqualTo(400);
        assertThat(json(shapeMismatch.body()).get("error").asText()).contains("inputs[0]");
        var notJson = http.post("/v1/models/iris:predict", "{\"instances\": [[1,");
        assertThat(notJson.statusCode()).isEqualTo(400);
        var oversized = http.post("/v1/models/iris:predict", "{\"instances\": [" + "[1, 2, 3, 4],".repeat(300) + "[1, 2, 3, 4]]}");
        assertThat(oversized.statusCode()).isEqualTo(413);
        assertThat(json(oversized.body()).get("error").asText()).contains("2048");
        // and the model still answers
        assertThat(http.post("/v1/models/iris:predict", "{\"instances\": [[6.8, 2.8, 4.8, 1.4]]}").statusCode()).isEqualTo(200);
    }

    @Test
    void aCrashedProcessIsRestartedAndRequestsMeanwhileGet503NotAHang() throws Exception {
        var isvc = reconciled(sklearnIsvc("iris", ""));
        assertThat(isvc.status().phase()).isEqualTo("Ready");
        var body = "{\"instances\": [[6.8, 2.8, 4.8, 1.4]]}";
        assertThat(http.post("/v1/models/iris:predict", body).statusCode()).isEqualTo(200);
        var first = serverProcess("sklearnserver");
        first.destroyForcibly();
        first.onExit().get(10, TimeUnit.SECONDS);

        var statuses = new ArrayList<Integer>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            long start = System.nanoTime();
            var response = http.post("/v1/models/iris:predict", body);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no request hangs on a dead process").isLessThan(Duration.ofSeconds(10));
            statuses.add(response.statusCode());
            if (response.statusCode() == 200) break;
            assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
            Thread.sleep(50);
        }
        assertThat(statuses.getFirst()).as("right after the crash").isEqualTo(503);
        assertThat(statuses.getLast()).as("after the restart").isEqualTo(200);
        assertThat(serverProcess("sklearnserver").pid()).isNotEqualTo(first.pid());
        assertThat(json(http.post("/v1/models/iris:predict", body).body()).get("predictions").get(0).asInt()).isEqualTo(1);

        // stopped with the revision: deleting the service ends its process
        var second = serverProcess("sklearnserver");
        store.delete(new ResourceKey("InferenceService", "default", "iris"));
        serving.reconciler().reconcile(new ResourceKey("InferenceService", "default", "iris"));
        second.onExit().get(10, TimeUnit.SECONDS);
        assertThat(second.isAlive()).isFalse();
    }

    /** The one model-server process of this JVM whose command line mentions {@code marker}. */
    private static ProcessHandle serverProcess(String marker) {
        var found = ProcessHandle.current().descendants()
                .filter(p -> p.isAlive() && p.info().commandLine().map(c -> c.contains(marker)).orElse(false)).toList();
        assertThat(found).as("processes running " + marker).hasSize(1);
        return found.getFirst();
    }

    @Test
    void torchScriptAndTensorFlowAreRefusedAtOnceWithWhatToDoNothingHangs() throws Exception {
        for (var format : new String[] {"pytorch", "tensorflow"}) {
            long start = System.nanoTime();
            var isvc = reconciled("""
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata: {name: %s}
                    spec:
                      predictor:
                        model: {modelFormat: {name: %s}, storageUri: %s}
                    """.formatted(format, format, irisModel));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as(format).isLessThan(Duration.ofSeconds(10));
            assertThat(isvc.status().phase()).isEqualTo("Failed");
            assertThat(isvc.status().condition("Ready").orElseThrow().message()).contains("onnx");
            long before = System.nanoTime();
            var answer = http.post("/v2/models/" + format + "/infer",
                    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}");
            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void aServerWhoseCapstanDiedExitsRatherThanLingering() throws Exception {
        // sh stands in for a Capstan killed with -9: it starts the server as Capstan does, then is gone
        var python = dir.resolve("python");
        var shim = PythonFiles.install(python);
        var script = "CAPSTAN_PARENT_PID=$$ PYTHONPATH=" + shim + " " + PythonInterpreter.command() + " -m sklearnserver --model_dir "
                + irisModel + " --model_name orphan --http_port 0 >/dev/null 2>&1 & echo $!; sleep 8";
        var parent = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
        long pid = Long.parseLong(new String(parent.getInputStream().readNBytes(32)).strip().lines().findFirst().orElseThrow());
        var server = ProcessHandle.of(pid).orElseThrow();
        assertThat(parent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(server.isAlive()).as("the server outlived its parent's sleep, so it was running").isTrue();
        assertThat(server.onExit().get(15, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    @Test
    void aBadPickleFailsTheRevisionWithTheProcessesReason() throws Exception {
        var broken = dir.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve("model.pkl"), "not a pickle");
        long start = System.nanoTime();
        var isvc = reconciled(sklearnIsvc("bad", "").replace(irisModel.toString(), broken.toString()));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
        assertThat(isvc.status().phase()).isEqualTo("Failed");
        assertThat(isvc.status().condition("Ready").orElseThrow().message()).contains("exited", "model load failed");
        assertThat(http.post("/v1/models/bad:predict", "{\"instances\": [[1, 2, 3, 4]]}").statusCode()).isEqualTo(503);
    }
}
