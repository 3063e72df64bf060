package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.serving.EchoModel;
import io.capstan.serving.TestHttp;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.DataType;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.PayloadLogger;
import io.capstan.serving.internal.Revision;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.internal.Route;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.OnnxModelRuntime;
import io.capstan.store.testing.Conformance;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests and responses checked against the OIP's own OpenAPI schemas (open_inference_rest.yaml). */
class OipConformanceTest {
    @TempDir
    static Path dir;
    static ModelServer server;
    static TestHttp http;
    static OipSchema schema;

    @BeforeAll
    static void start() throws Exception {
        Conformance.require(OipSchema.SPEC);
        schema = new OipSchema();
        server = new ModelServer(Duration.ofSeconds(1));
        var model = TestModels.irisOnnx(dir.resolve("iris"));
        var runtime = new OnnxModelRuntime();
        var iris = new Revision("default", "iris", 1, () -> runtime.load(new ModelSource("iris", model, "onnx", Map.of())),
                RevisionSettings.defaults(), new SimpleMeterRegistry(), Clock.systemUTC());
        iris.start();
        server.register("default", "iris").route(Route.allTo(iris, PayloadLogger.NONE));
        for (var type : DataType.values()) {
            var name = "echo-" + type.name().toLowerCase(java.util.Locale.ROOT);
            var echo = new Revision("default", name, 1, () -> new EchoModel(type), RevisionSettings.defaults(),
                    new SimpleMeterRegistry(), Clock.systemUTC());
            echo.start();
            server.register("default", name).route(Route.allTo(echo, PayloadLogger.NONE));
        }
        http = new TestHttp(new InferenceHttpService(server));
    }

    @AfterAll
    static void stop() {
        if (http != null) http.close();
        if (server != null) server.close();
    }

    @Test
    void metadataResponsesConform() throws Exception {
        var server = http.get("/v2");
        assertThat(schema.problems("metadata_server_response", server.body())).isEmpty();
        var model = http.get("/v2/models/iris");
        assertThat(schema.problems("metadata_model_response", model.body())).isEmpty();
        var missing = http.get("/v2/models/none");
        assertThat(schema.problems("metadata_model_error_response", missing.body())).isEmpty();
    }

    @Test
    void inferenceRequestsAndResponsesConformForEveryDatatype() throws Exception {
        for (var entry : DatatypesRestTest.DATA.entrySet()) {
            var request = DatatypesRestTest.request(entry.getKey(), entry.getValue());
            assertThat(schema.problems("inference_request", request)).as(entry.getKey().name()).isEmpty();
            var response = http.post("/v2/models/" + DatatypesRestTest.name(entry.getKey()) + "/infer", request);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(schema.problems("inference_response", response.body())).as(entry.getKey() + ": " + response.body()).isEmpty();
        }
        var iris = http.post("/v2/models/iris/infer", OipRestTest.ONE_ROW);
        assertThat(schema.problems("inference_response", iris.body())).isEmpty();
    }

    @Test
    void errorResponsesConform() throws Exception {
        for (var body : new String[] {"{", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}"}) {
            var response = http.post("/v2/models/iris/infer", body);
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(schema.problems("inference_error_response", response.body())).isEmpty();
        }
    }

    @Test
    void theValidatorCatchesNonConformingDocuments() throws Exception {
        assertThat(schema.problems("inference_response", "{\"outputs\": []}")).isNotEmpty();
        assertThat(schema.problems("inference_request", "{\"inputs\": [{\"name\": 1}]}")).isNotEmpty();
    }
}
