package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.serving.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ModelMonitor, in the minimal form, on a served iris model with examples/iris/iris.csv as its reference:
 * the last 200 rows served from the iris data itself do not drift; 200 shifted rows do, in status and on /metrics.
 */
class ModelMonitorServerTest {
    static final Path IRIS_CSV = Path.of("..", "examples", "iris", "iris.csv").toAbsolutePath().normalize();
    static final String MONITOR = "/apis/capstan/v1/namespaces/default/modelmonitors/iris-drift";

    @TempDir
    static Path home;
    @TempDir
    static Path models;
    static TestServer server;
    static List<float[]> iris;

    @BeforeAll
    static void start() throws IOException {
        iris = new ArrayList<>();
        for (var line : Files.readAllLines(IRIS_CSV).subList(1, 151)) {
            var cells = line.split(",");
            iris.add(new float[] {Float.parseFloat(cells[0]), Float.parseFloat(cells[1]), Float.parseFloat(cells[2]), Float.parseFloat(cells[3])});
        }
        var onnx = TestModels.irisOnnx(models);
        server = new TestServer(home);
        var isvc = server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storageUri: %s
                """.formatted(onnx.toUri()));
        assertThat(isvc.status()).as(isvc.body()).isIn(200, 201);
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris",
                s -> s.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** Sends {@code count} iris rows, drawn with a seeded generator and changed by {@code change}, 10 per request. */
    static void send(int count, long seed, UnaryOperator<float[]> change) {
        var random = new SplittableRandom(seed);
        for (int sent = 0; sent < count; sent += 10) {
            var data = new StringBuilder();
            for (int r = 0; r < 10; r++) {
                var row = change.apply(iris.get(random.nextInt(iris.size())).clone());
                for (float v : row) data.append(data.isEmpty() ? "" : ",").append(v);
            }
            var reply = server.send("POST", "/v2/models/iris/infer",
                    "{\"inputs\":[{\"name\":\"input\",\"shape\":[10,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}", "application/json");
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        }
    }

    static JsonNode awaitWindowAfter(long lastRequest) {
        return server.await(MONITOR, m -> m.path("status").path("lastRequest").asLong(-1) >= lastRequest
                && m.path("status").path("samples").asInt() == 200, Duration.ofSeconds(60)).path("status");
    }

    @Test
    void irisFromItsOwnDataDoesNotDriftAndShiftedIrisDoes() {
        // the minimal form, with the reference's path on this machine
        var applied = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: iris-drift}
                spec:
                  inferenceService: iris
                  reference:
                    uri: %s          # a header row names the columns
                    features: [sepal_length, sepal_width, petal_length, petal_width]   # input tensor column order
                  window: {rows: 200}                   # the last 200 rows served; or {duration: 1h}
                """.formatted(IRIS_CSV.toUri()));
        assertThat(applied.status()).as(applied.body()).isIn(200, 201);
        server.await(MONITOR, m -> m.path("status").path("phase").asText().equals("Collecting"), Duration.ofSeconds(30));

        send(200, 1, row -> row);
        var calm = awaitWindowAfter(0);
        assertThat(calm.path("drifted").asBoolean()).as(calm.toString()).isFalse();
        assertThat(calm.path("phase").asText()).isEqualTo("NoDrift");
        assertThat(calm.path("reference").path("rows").asInt()).isEqualTo(150);
        var features = calm.path("features");
        assertThat(features).hasSize(4);
        assertThat(features.get(0).path("name").asText()).isEqualTo("sepal_length");
        // 150 reference rows, many distinct values: Evidently's choice is KS, p-value against 0.05
        assertThat(features.get(0).path("test").asText()).isEqualTo("ks");
        assertThat(features.get(0).path("threshold").asDouble()).isEqualTo(0.05);
        assertThat(features.get(0).has("statistic")).isTrue();
        assertThat(features.get(0).path("pValue").asDouble()).isGreaterThan(0.05);
        assertThat(calm.path("predictions").toString()).contains("\"name\":\"label\"", "\"test\":\"chisquare\"");
        assertThat(calm.path("predictionDrifted").asBoolean()).isFalse();
        assertThat(server.get("/metrics").body()).contains("capstan_drift_detected{isvc=\"iris\",monitor=\"iris-drift\",namespace=\"default\"} 0.0");

        send(200, 2, row -> new float[] {row[0] + 1.5f, row[1] - 1.0f, row[2] * 1.6f + 1.0f, row[3] + 0.8f});
        var shifted = awaitWindowAfter(calm.path("lastRequest").asLong() + 20);
        assertThat(shifted.path("drifted").asBoolean()).as(shifted.toString()).isTrue();
        assertThat(shifted.path("phase").asText()).isEqualTo("Drifted");
        assertThat(shifted.path("driftedFeatures").asInt()).isEqualTo(4);
        for (var f : shifted.path("features")) {
            assertThat(f.path("drifted").asBoolean()).as(f.toString()).isTrue();
            assertThat(f.path("pValue").asDouble()).isLessThan(0.05);
        }
        assertThat(shifted.path("predictionDrifted").asBoolean()).isTrue();
        var metrics = server.get("/metrics").body();
        assertThat(metrics).contains("capstan_drift_detected{isvc=\"iris\",monitor=\"iris-drift\",namespace=\"default\"} 1.0");
        assertThat(metrics).containsPattern("capstan_drift_statistic\\{feature=\"petal_length\",isvc=\"iris\",namespace=\"default\",revision=\"\\d+\",test=\"ks\"} 0\\.\\d+");
        assertThat(metrics).contains("feature=\"prediction:label\"");
    }

    @Test
    void aHostileMonitorIsRefusedNamingEachField() {
        var reply = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: bad}
                spec:
                  inferenceService: ""
                  reference:
                    uri: "http://169.254.169.254/latest"
                    features: [a, a, {name: b, type: colour, test: anova, threshold: -1}]
                  window: {rows: 1, duration: forever}
                  tests: {default: t-test}
                  thresholds: {driftShare: 2}
                  interval: 1ms
                  windw: {rows: 3}
                """);
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.contentType()).startsWith("application/problem+json");
        assertThat(reply.body()).contains("spec.inferenceService", "spec.reference.uri", "spec.reference.features[1]",
                "spec.reference.features[2].type", "spec.reference.features[2].test", "spec.reference.features[2].threshold",
                "spec.window.rows", "spec.window.duration", "spec.tests.default", "spec.thresholds.driftShare", "spec.interval", "spec.windw");
        assertThat(server.get(MONITOR.replace("iris-drift", "bad")).status()).isEqualTo(404);
    }
}
