package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.serving.TestModels;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole drift-triggered retraining loop on the iris example: a served iris model sees a deliberately shifted input
 * stream; after two consecutive drifted windows its ModelMonitor exports the window as a CSV artifact, runs
 * examples/iris/iris-pipeline.yaml on it, registers the exported ONNX model in the model registry, and rolls it out as a
 * 10% canary of the same InferenceService, which then answers requests.
 */
class DriftRetrainingServerTest {
    static final Path IRIS = Path.of("..", "examples", "iris").toAbsolutePath().normalize();
    static final String MONITOR = "/apis/capstan/v1/namespaces/default/modelmonitors/iris-drift";
    static final String ISVC = "/apis/capstan/v1/namespaces/default/inferenceservices/iris";

    @TempDir
    Path home;
    @TempDir
    Path models;
    TestServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    @Test
    void sustainedDriftRetrainsRegistersAndRollsOutACanary() throws Exception {
        var iris = ModelMonitorServerTestRows.read(IRIS.resolve("iris.csv"));
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
                """.formatted(TestModels.irisOnnx(models).toUri()));
        assertThat(isvc.status()).as(isvc.body()).isIn(200, 201);
        server.await(ISVC, s -> s.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(60));
        var applied = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: iris-drift}
                spec:
                  inferenceService: iris
                  reference:
                    uri: %s
                    features: [sepal_length, sepal_width, petal_length, petal_width]
                  window: {rows: 200}
                  interval: 500ms
                  actions:
                  - retrain:
                      pipeline: {file: %s}
                      parameters: {seed: 7}
                      labelColumn: species
                      afterWindows: 2
                      canaryTrafficPercent: 10
                """.formatted(IRIS.resolve("iris.csv").toUri(), IRIS.resolve("iris-pipeline.yaml")));
        assertThat(applied.status()).as(applied.body()).isIn(200, 201);

        // two drifted windows, one after the other: each is tested before the next arrives
        long last = -1;
        for (int w = 0; w < 2; w++) {
            ModelMonitorServerTestRows.send(server, iris, 200, 10 + w, row -> new float[] {row[0] + 1.5f, row[1] - 1.0f, row[2] * 1.6f + 1.0f, row[3] + 0.8f});
            long after = last;
            var status = server.await(MONITOR, m -> m.path("status").path("lastRequest").asLong(-1) > after
                    && m.path("status").path("samples").asInt() == 200, Duration.ofSeconds(60)).path("status");
            assertThat(status.path("drifted").asBoolean()).as(status.toString()).isTrue();
            last = status.path("lastRequest").asLong();
        }
        var running = server.await(MONITOR, m -> !m.path("status").path("retraining").path("run").asText().isEmpty(), Duration.ofSeconds(30))
                .path("status").path("retraining");
        assertThat(running.path("run").asText()).isEqualTo("iris-drift-retrain-1");
        assertThat(running.path("datasetRows").asInt()).isEqualTo(200);
        // the exported window: the features and the served model's answers as the species label
        var csv = Files.readAllLines(Path.of(URI.create(running.path("dataset").asText())));
        assertThat(csv.getFirst()).isEqualTo("sepal_length,sepal_width,petal_length,petal_width,species");
        assertThat(csv).hasSize(201);
        assertThat(csv.get(1)).matches("[-0-9.E]+,[-0-9.E]+,[-0-9.E]+,[-0-9.E]+,[012]");

        var done = server.await(MONITOR, m -> java.util.Set.of("RolledOut", "Failed").contains(m.path("status").path("retraining").path("phase").asText()),
                Duration.ofSeconds(240)).path("status").path("retraining");
        assertThat(done.path("phase").asText()).as(done.toString()).isEqualTo("RolledOut");
        var run = server.get("/apis/capstan/v1/namespaces/default/pipelineruns/iris-drift-retrain-1").json();
        assertThat(run.path("status").path("phase").asText()).isEqualTo("Succeeded");
        assertThat(run.path("spec").path("parameters").path("source").asText()).isEqualTo(running.path("dataset").asText());
        assertThat(run.path("metadata").path("labels").path("monitoring.capstan.io/monitor").asText()).isEqualTo("iris-drift");
        var model = run.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").get(0).path("uri").asText();
        assertThat(done.path("model").asText()).isEqualTo(model);
        assertThat(done.path("storageUri").asText()).isEqualTo("model-registry://iris/iris-drift-retrain-1");

        // registered in the model registry, with the run's model artifact
        var versions = server.get("/api/model_registry/v1alpha3/model_versions?pageSize=100").json();
        assertThat(versions.toString()).contains("iris-drift-retrain-1");
        var artifacts = server.get("/api/model_registry/v1alpha3/model_artifacts?pageSize=100").json();
        assertThat(artifacts.toString()).contains(model);

        // lineage: the drift event (the exported window) in, the run's model and the registered version out, in the run's context
        var lineage = server.get("/apis/capstan/v1/lineage/pipelineruns/" + run.path("metadata").path("uid").asText()).json().toString();
        assertThat(lineage).contains("capstan.DriftRetraining", running.path("dataset").asText(), "model-registry://iris/iris-drift-retrain-1",
                "default/iris");

        // the same InferenceService now has the retrained model as a 10% canary, which loads and answers
        var served = server.await(ISVC, s -> s.path("status").path("phase").asText().equals("Ready")
                && s.path("status").path("revisions").size() >= 2, Duration.ofSeconds(120));
        assertThat(served.path("spec").path("predictor").path("canaryTrafficPercent").asInt()).isEqualTo(10);
        assertThat(served.path("spec").path("predictor").path("model").path("storageUri").asText()).isEqualTo("model-registry://iris/iris-drift-retrain-1");
        assertThat(served.path("status").path("modelSource").toString()).contains("iris-drift-retrain-1");
        var latest = served.path("status").path("components").path("predictor").path("latestCreatedRevision").asText();
        var canaryRevision = Integer.parseInt(latest.substring(latest.lastIndexOf('-') + 1));
        assertThat(canaryRevision).isEqualTo(2);
        var reply = server.send("POST", "/v2/models/iris/versions/" + canaryRevision + "/infer",
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[6.6,2.0,3.2,1.0]}]}", "application/json");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);

        // the platform metrics the work above moved, read from the server's /metrics
        var metrics = server.get("/metrics").body();
        assertThat(metrics).contains("capstan_pipeline_run_success_ratio 1.0", "capstan_pipeline_runs_finished{outcome=\"succeeded\"} 1.0",
                "capstan_metadata_coverage_ratio 1.0", "capstan_artifact_integrity_failures_total 0.0");
        assertThat(server.metric("capstan_drift_rate")).isGreaterThan(0).isLessThanOrEqualTo(1);
        assertThat(server.metric("capstan_inference_cpu_seconds_per_request")).isGreaterThan(0);
        assertThat(metrics).contains("capstan_reference_age_seconds{monitor=\"iris-drift\",namespace=\"default\"}");
    }
}
