package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.serving.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * ModelMonitor references on a real server with S3 configured: a pipeline run's output dataset by its ML Metadata id
 * (mlmd://artifacts/ID, a CSV in S3), a model registry DataSet artifact by name (registry-dataset://NAME, a Parquet
 * object in S3) and a Parquet object by s3:// URI all hold iris, so each gives exactly the statistics of the plain CSV
 * file; malformed URIs are refused with 400 naming spec.reference.uri, and missing artifacts fail the monitor saying so.
 */
class ModelMonitorReferencesServerTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final String MONITORS = "/apis/capstan/v1/namespaces/default/modelmonitors/";

    @TempDir
    Path home;
    @TempDir
    Path models;
    TestServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private void monitor(String name, String uri) {
        var reply = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: %s}
                spec:
                  inferenceService: iris
                  reference: {uri: "%s", features: [sepal_length, sepal_width, petal_length, petal_width]}
                  window: {rows: 100}
                  predictions: false
                  interval: 500ms
                """.formatted(name, uri));
        assertThat(reply.status()).as(reply.body()).isIn(200, 201);
    }

    @Test
    void pipelineRegistryAndS3ReferencesGiveTheStatisticsOfTheCsvTheyHold() throws Exception {
        var s3 = S3.newBucketSettings();
        server = new TestServer(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0",
                "CAPSTAN_RESYNC_SECONDS", "5", "CAPSTAN_S3_BUCKET", s3.bucket(), "CAPSTAN_S3_ENDPOINT", s3.endpoint(),
                "CAPSTAN_S3_ACCESS_KEY", s3.accessKey(), "CAPSTAN_S3_SECRET_KEY", s3.secretKey())));
        var parquet = ROOT.resolve("capstan-monitoring/src/test/resources/reference/iris.parquet");
        S3.client().putObject(b -> b.bucket(s3.bucket()).key("refs/iris.parquet"), RequestBody.fromFile(parquet));
        var dataset = server.send("POST", "/api/model_registry/v1alpha3/artifacts", """
                {"artifactType": "dataset-artifact", "name": "iris-reference", "uri": "s3://%s/refs/iris.parquet", "sourceType": "s3"}
                """.formatted(s3.bucket()), "application/json");
        assertThat(dataset.status()).as(dataset.body()).isEqualTo(201);

        // the iris pipeline: its csv-ingest output is a dataset artifact in ML Metadata, stored in S3
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(ROOT.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", ROOT.resolve("examples/iris/iris.csv").toString());
        var applied = server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json");
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);
        var onnx = TestModels.irisOnnx(models);
        assertThat(server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model: {modelFormat: {name: onnx}, storageUri: %s}
                """.formatted(onnx.toUri())).status()).isIn(200, 201);
        var run = server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(180));
        assertThat(run.path("status").path("phase").asText()).as(run.path("status").toString()).isEqualTo("Succeeded");
        var ingested = run.path("status").path("tasks").path("root/csv-ingest").path("outputs").path("artifacts").path("dataset").get(0)
                .path("uri").asText();
        assertThat(ingested).startsWith("s3://" + s3.bucket() + "/");
        var artifact = server.server.metadata().artifactsByUri(ingested).getFirst();

        monitor("file", ROOT.resolve("examples/iris/iris.csv").toUri().toString());
        monitor("pipeline", "mlmd://artifacts/" + artifact.id());
        monitor("registry", "registry-dataset://iris-reference");
        monitor("s3", "s3://" + s3.bucket() + "/refs/iris.parquet");
        monitor("no-dataset", "registry-dataset://nothing-here");
        monitor("no-artifact", "mlmd://artifacts/999999");
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris",
                s -> s.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(60));
        var lines = Files.readAllLines(ROOT.resolve("examples/iris/iris.csv")).subList(1, 101);
        var data = new StringBuilder();
        for (var line : lines) {
            var c = line.split(",");
            for (int i = 0; i < 4; i++) data.append(data.isEmpty() ? "" : ",").append(c[i]);
        }
        var reply = server.send("POST", "/v2/models/iris/infer",
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[100,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}", "application/json");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);

        JsonNode expected = null;
        for (var name : java.util.List.of("file", "pipeline", "registry", "s3")) {
            var status = server.await(MONITORS + name, m -> m.path("status").path("samples").asInt() == 100
                    && m.path("status").has("features"), Duration.ofSeconds(60)).path("status");
            assertThat(status.path("reference").path("rows").asInt()).as(name + " " + status).isEqualTo(150);
            if (expected == null) expected = status.path("features");
            else assertThat(status.path("features")).as(name).isEqualTo(expected);
        }
        var missing = server.await(MONITORS + "no-dataset", m -> m.path("status").path("phase").asText().equals("Failed"), Duration.ofSeconds(30));
        assertThat(missing.toString()).contains("spec.reference.uri: registry-dataset://nothing-here: the model registry of namespace 'default' has no DataSet artifact 'nothing-here'");
        var noArtifact = server.await(MONITORS + "no-artifact", m -> m.path("status").path("phase").asText().equals("Failed"), Duration.ofSeconds(30));
        assertThat(noArtifact.toString()).contains("spec.reference.uri: mlmd://artifacts/999999: ML Metadata has no artifact 999999");
        // data freshness of each reference on /metrics
        assertThat(server.get("/metrics").body()).contains("capstan_reference_age_seconds{monitor=\"registry\",namespace=\"default\"}",
                "capstan_reference_age_seconds{monitor=\"pipeline\",namespace=\"default\"}");

        for (var bad : java.util.List.of("mlmd://artifacts/abc", "registry-dataset://", "s3://" + s3.bucket(), "ftp://host/iris.csv")) {
            var refused = server.apply("""
                    apiVersion: monitoring.capstan.io/v1alpha1
                    kind: ModelMonitor
                    metadata: {name: bad}
                    spec:
                      inferenceService: iris
                      reference: {uri: "%s", features: [sepal_length]}
                    """.formatted(bad));
            assertThat(refused.status()).as(bad).isEqualTo(400);
            assertThat(refused.body()).as(bad).contains("spec.reference.uri");
        }
    }
}
