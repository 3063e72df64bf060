package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A server configured with CAPSTAN_S3_*: the iris pipeline's datasets and models land in S3, and lineage names them there. */
class S3PipelineArtifactsTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    Path home;
    TestServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    @Test
    void theIrisPipelinesArtifactsAndModelsLandInTheConfiguredBucket() throws Exception {
        var s3 = S3.newBucketSettings();
        server = new TestServer(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0",
                "CAPSTAN_RESYNC_SECONDS", "5", "CAPSTAN_S3_BUCKET", s3.bucket(), "CAPSTAN_S3_ENDPOINT", s3.endpoint(),
                "CAPSTAN_S3_ACCESS_KEY", s3.accessKey(), "CAPSTAN_S3_SECRET_KEY", s3.secretKey())));
        var root = Path.of("").toAbsolutePath().getParent();
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString());
        var reply = server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);

        var run = server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(120));

        assertThat(run.path("status").path("phase").asText()).as(run.path("status").toString()).isEqualTo("Succeeded");
        var prefix = "s3://" + s3.bucket() + "/pipelines/" + run.path("metadata").path("uid").asText() + "/";
        var model = run.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").get(0);
        assertThat(model.path("uri").asText()).startsWith(prefix);
        // The model artifact is a folder (model.onnx and provenance.json): one object per file under its key.
        var key = model.path("uri").asText().substring(("s3://" + s3.bucket() + "/").length()) + "/model.onnx";
        var onnx = S3.client().getObjectAsBytes(b -> b.bucket(s3.bucket()).key(key)).asByteArray();
        assertThat(onnx.length).as("the exported ONNX model is in the bucket").isGreaterThan(100);
        try (var local = Files.walk(home.resolve("artifacts"))) {
            assertThat(local.filter(Files::isRegularFile).toList()).as("nothing went to the local artifact folder").isEmpty();
        }
        run.path("status").path("tasks").properties().forEach(task -> task.getValue().path("outputs").path("artifacts").properties()
                .forEach(output -> assertThat(output.getValue().get(0).path("uri").asText()).as(task.getKey() + " " + output.getKey()).startsWith(prefix)));
        var lineage = server.get("/apis/capstan/v1/lineage/pipelineruns/" + run.path("metadata").path("uid").asText()).json();
        assertThat(lineage.path("artifacts")).isNotEmpty().allSatisfy(a -> assertThat(a.path("uri").asText()).startsWith(prefix));
    }
}
