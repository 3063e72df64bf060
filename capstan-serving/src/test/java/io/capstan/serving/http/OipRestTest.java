package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.serving.TestHttp;
import io.capstan.serving.TestModels;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.Revision;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.internal.Route;
import io.capstan.serving.internal.PayloadLogger;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.OnnxModelRuntime;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OipRestTest {
    @TempDir
    static Path dir;
    static ModelServer server;
    static TestHttp http;

    @BeforeAll
    static void start() throws Exception {
        server = new ModelServer(Duration.ofSeconds(1));
        var model = TestModels.irisOnnx(dir.resolve("iris"));
        var runtime = new OnnxModelRuntime();
        var revision = new Revision("default", "iris", 1, () -> runtime.load(new ModelSource("iris", model, "onnx", Map.of())),
                RevisionSettings.defaults(), new SimpleMeterRegistry(), Clock.systemUTC());
        revision.start();
        server.register("default", "iris").route(Route.allTo(revision, PayloadLogger.NONE));
        var other = new Revision("team-a", "iris", 1, () -> runtime.load(new ModelSource("iris", model, "onnx", Map.of())),
                RevisionSettings.defaults(), new SimpleMeterRegistry(), Clock.systemUTC());
        other.start();
        server.register("team-a", "iris").route(Route.allTo(other, PayloadLogger.NONE));
        server.register("default", "loading");
        http = new TestHttp(new InferenceHttpService(server, 64 * 1024));
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
    }

    static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.json().readTree(response.body());
    }

    static final String ONE_ROW = """
            {"id": "r1", "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}""";

    @Test
    void serverHealthAndMetadata() throws Exception {
        assertThat(http.get("/v2/health/live").statusCode()).isEqualTo(200);
        assertThat(http.get("/v2/health/ready").statusCode()).isEqualTo(200);
        var metadata = json(http.get("/v2"));
        assertThat(metadata.get("name").asText()).isEqualTo("capstan");
        assertThat(metadata.get("extensions").isArray()).isTrue();
    }

    @Test
    void modelMetadataDescribesInputsAndOutputs() throws Exception {
        var response = http.get("/v2/models/iris");
        assertThat(response.statusCode()).isEqualTo(200);
        var metadata = json(response);
        assertThat(metadata.get("platform").asText()).isEqualTo("onnxruntime_onnx");
        assertThat(metadata.get("versions").get(0).asText()).isEqualTo("1");
        assertThat(metadata.get("inputs").get(0).toString()).isEqualTo("{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,4]}");
        assertThat(metadata.get("outputs").findValuesAsText("name")).containsExactlyInAnyOrder("probabilities", "label");
        assertThat(http.get("/v2/models/iris/versions/1").statusCode()).isEqualTo(200);
        assertThat(http.get("/v2/models/iris/ready").statusCode()).isEqualTo(200);
        assertThat(http.get("/v2/models/iris/versions/1/ready").statusCode()).isEqualTo(200);
    }

    @Test
    void infersOneRowWithTheModelsAnswer() throws Exception {
        var response = http.post("/v2/models/iris/infer", ONE_ROW);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        var body = json(response);
        assertThat(body.get("model_name").asText()).isEqualTo("iris");
        assertThat(body.get("model_version").asText()).isEqualTo("1");
        assertThat(body.get("id").asText()).isEqualTo("r1");
        var expected = TestModels.irisProbabilities(new float[] {5.1f, 3.5f, 1.4f, 0.2f});
        JsonNode probabilities = null;
        JsonNode label = null;
        for (var output : body.get("outputs")) {
            if (output.get("name").asText().equals("probabilities")) probabilities = output;
            if (output.get("name").asText().equals("label")) label = output;
        }
        assertThat(probabilities.get("shape").toString()).isEqualTo("[1,3]");
        for (int c = 0; c < 3; c++) {
            assertThat(probabilities.get("data").get(c).floatValue()).isCloseTo(expected[c], org.assertj.core.data.Offset.offset(1e-5f));
        }
        assertThat(label.get("datatype").asText()).isEqualTo("INT64");
        int best = expected[0] > expected[1] ? (expected[0] > expected[2] ? 0 : 2) : (expected[1] > expected[2] ? 1 : 2);
        assertThat(label.get("data").get(0).asInt()).isEqualTo(best);
    }

    @Test
    void infersABatchWithNestedDataAndSelectsNamedOutputs() throws Exception {
        var response = http.post("/v2/models/iris/versions/1/infer", """
                {"inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32",
                             "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}],
                 "outputs": [{"name": "label"}]}""");
        assertThat(response.statusCode()).isEqualTo(200);
        var outputs = json(response).get("outputs");
        assertThat(outputs).hasSize(1);
        assertThat(outputs.get(0).get("name").asText()).isEqualTo("label");
        assertThat(outputs.get(0).get("shape").toString()).isEqualTo("[2]");
    }

    @Test
    void dataBeforeDatatypeIsAccepted() throws Exception {
        var response = http.post("/v2/models/iris/infer", """
                {"inputs": [{"data": [5.1, 3.5, 1.4, 0.2], "name": "input", "shape": [1, 4], "datatype": "FP32"}]}""");
        assertThat(response.statusCode()).isEqualTo(200);
    }

    @Test
    void inferPathsAreMatchedExactly() throws Exception {
        assertThat(http.post("/v2/models/iris/versions/1/infer", ONE_ROW).statusCode()).isEqualTo(200);
        assertError(http.post("/v2/models/iris/versions/7/infer", ONE_ROW), 404, "version '7'");
        assertError(http.post("/v2/models/nope/infer", ONE_ROW), 404, "nope");
        assertThat(http.post("/v2/models/iris/infer/more", ONE_ROW).statusCode()).isEqualTo(404);
        assertThat(http.post("/v2/models/iris/versions//infer", ONE_ROW).statusCode()).isEqualTo(404);
        assertThat(http.post("/v2/models/iris/versions/1/2/infer", ONE_ROW).statusCode()).isEqualTo(404);
        assertThat(http.post("/v2/models//infer", ONE_ROW).statusCode()).isEqualTo(404);
        assertThat(http.post("/v2/models/iris/predict", ONE_ROW).statusCode()).isEqualTo(404);
    }

    @Test
    void namespacedRoutesAddressTheirNamespace() throws Exception {
        assertThat(http.post("/serving/team-a/v2/models/iris/infer", ONE_ROW).statusCode()).isEqualTo(200);
        assertThat(http.get("/serving/team-a/v2/models/iris/ready").statusCode()).isEqualTo(200);
        assertThat(http.get("/serving/default/v2/models/iris").statusCode()).isEqualTo(200);
        var missing = http.post("/serving/team-b/v2/models/iris/infer", ONE_ROW);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).get("error").asText()).contains("team-b");
    }

    private static void assertError(HttpResponse<String> response, int status, String... fragments) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        var error = json(response).get("error").asText();
        for (var fragment : fragments) assertThat(error).contains(fragment);
    }

    @Test
    void wrongShapeIsA400NamingTheShape() throws Exception {
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}"""),
                400, "inputs[0].shape", "[-1, 4]");
    }

    @Test
    void datatypeMismatchIsA400() throws Exception {
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}]}"""),
                400, "inputs[0].datatype", "FP32", "INT64");
    }

    @Test
    void dataLengthNotMatchingTheShapeIsA400() throws Exception {
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}"""),
                400, "inputs[0].data", "8 elements", "4");
    }

    @Test
    void invalidJsonIsA400() throws Exception {
        assertError(http.post("/v2/models/iris/infer", "{\"inputs\": [{\"name\": "), 400, "not valid JSON");
        assertError(http.post("/v2/models/iris/infer", "[1, 2]"), 400, "JSON object");
        assertError(http.post("/v2/models/iris/infer", ""), 400);
        assertError(http.post("/v2/models/iris/infer", "{} {}"), 400, "after");
    }

    @Test
    void unknownInputNameIsA400ListingTheInputs() throws Exception {
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}"""),
                400, "inputs[0].name", "features", "input FP32");
    }

    @Test
    void unknownDatatypeAndBadElementsAreA400() throws Exception {
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP33", "data": [1, 2, 3, 4]}]}"""),
                400, "inputs[0].datatype", "FP33");
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, "two", 3, 4]}]}"""),
                400, "inputs[0].data[1]", "number");
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [1, -4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}"""),
                400, "inputs[0].shape[1]", "negative");
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [99999999999, 99999999999], "datatype": "FP32", "data": []}]}"""),
                400, "inputs[0].shape", "too many");
        assertError(http.post("/v2/models/iris/infer", """
                {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}],
                 "outputs": [{"name": "nope"}]}"""),
                400, "outputs[0].name", "nope");
        assertError(http.post("/v2/models/iris/infer", "{\"inputs\": []}"), 400, "inputs");
        assertError(http.post("/v2/models/iris/infer", "{\"id\": 5, \"inputs\": []}"), 400, "id");
    }

    @Test
    void hostileNestingIsA400() throws Exception {
        var deep = "[".repeat(5000) + "]".repeat(5000);
        assertError(http.post("/v2/models/iris/infer",
                "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": " + deep + "}]}"), 400);
    }

    @Test
    void payloadOverTheLimitIsA413() throws Exception {
        var big = new StringBuilder("{\"inputs\": [{\"name\": \"input\", \"shape\": [20000, 4], \"datatype\": \"FP32\", \"data\": [");
        for (int i = 0; i < 80000; i++) big.append(i == 0 ? "" : ",").append("1.5");
        big.append("]}]}");
        assertError(http.post("/v2/models/iris/infer", big.toString()), 413, "over the limit of 65536 bytes for model 'iris'");
    }

    @Test
    void unknownModelIsA404AndLoadingModelIsA503() throws Exception {
        assertError(http.post("/v2/models/nope/infer", ONE_ROW), 404, "nope");
        assertError(http.get("/v2/models/nope"), 404);
        assertError(http.get("/v2/models/nope/ready"), 404);
        assertError(http.get("/v2/models/iris/versions/7"), 404, "version '7'");
        assertError(http.post("/v2/models/loading/infer", ONE_ROW), 503, "not ready");
        assertError(http.get("/v2/models/loading/ready"), 503);
    }

    @Test
    void v1PredictAndModelStatus() throws Exception {
        var response = http.post("/v1/models/iris:predict", "{\"instances\": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var predictions = json(response).get("predictions");
        assertThat(predictions).hasSize(2);
        var model = json(http.get("/v1/models/iris"));
        assertThat(model.get("ready").asBoolean()).isTrue();
        assertThat(http.post("/v1/models/iris:predict", "{\"inputs\": [[5.1, 3.5, 1.4, 0.2]]}").statusCode()).isEqualTo(200);
        assertError(http.post("/v1/models/iris:predict", "{\"instances\": [[5.1, 3.5], [1]]}"), 400, "instances[1]");
        assertError(http.post("/v1/models/iris:predict", "{\"instances\": [[\"a\", 3.5, 1.4, 0.2]]}"), 400, "number");
        assertError(http.post("/v1/models/iris:predict", "{\"rows\": []}"), 400, "instances");
        assertError(http.post("/v1/models/nope:predict", "{\"instances\": [[1,2,3,4]]}"), 404);
        assertError(http.post("/v1/models/iris:explain", "{\"instances\": [[1,2,3,4]]}"), 404);
    }

    @Test
    void v1ListsTheModelsOfANamespace() throws Exception {
        var response = http.get("/v1/models");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(json(response).toString()).isEqualTo("{\"models\":[\"iris\",\"loading\"]}");
        assertThat(json(http.get("/serving/default/v1/models")).toString()).isEqualTo("{\"models\":[\"iris\",\"loading\"]}");
        assertThat(json(http.get("/serving/team-a/v1/models")).toString()).isEqualTo("{\"models\":[\"iris\"]}");
        var empty = http.get("/serving/nobody/v1/models");
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(json(empty).toString()).isEqualTo("{\"models\":[]}");
    }
}
