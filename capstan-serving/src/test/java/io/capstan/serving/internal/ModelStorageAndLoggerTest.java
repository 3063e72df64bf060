package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.runtime.ModelLoadException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStorageAndLoggerTest {
    @TempDir
    Path dir;

    static final byte[] MODEL = "pretend this is a model".getBytes(StandardCharsets.UTF_8);

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void httpModelsAreDownloadedVerifiedAndCached() throws Exception {
        var downloads = new AtomicInteger();
        var web = WebServer.builder().host("127.0.0.1").port(0).routing(HttpRouting.builder()
                .get("/models/model.onnx", (req, res) -> {
                    downloads.incrementAndGet();
                    res.send(MODEL);
                })
                .get("/missing", (req, res) -> res.status(404).send())).build().start();
        try {
            var storage = new ModelStorage(dir.resolve("cache"), null, b -> Optional.empty(), Duration.ofSeconds(30));
            var base = "http://127.0.0.1:" + web.port();
            var path = storage.fetch(base + "/models/model.onnx#sha256=" + sha256(MODEL));
            assertThat(Files.readAllBytes(path)).isEqualTo(MODEL);
            assertThat(path.getFileName().toString()).isEqualTo("model.onnx");
            assertThat(storage.fetch(base + "/models/model.onnx#sha256=" + sha256(MODEL))).isEqualTo(path);
            assertThat(downloads.get()).as("the second fetch comes from the cache").isEqualTo(1);
            Files.write(path, "tampered".getBytes(StandardCharsets.UTF_8));
            assertThat(Files.readAllBytes(storage.fetch(base + "/models/model.onnx#sha256=" + sha256(MODEL)))).isEqualTo(MODEL);
            assertThat(downloads.get()).as("a cached copy that no longer matches is fetched again").isEqualTo(2);
            assertThatThrownBy(() -> storage.fetch(base + "/models/model.onnx#sha256=" + "0".repeat(64)))
                    .isInstanceOf(ModelLoadException.class).hasMessageContaining("SHA-256");
            assertThatThrownBy(() -> storage.fetch(base + "/missing")).isInstanceOf(ModelLoadException.class).hasMessageContaining("404");
        } finally {
            web.stop();
        }
    }

    @Test
    void capstanArtifactsAreCopiedFromTheStoreAndUnreachableSchemesFailAtOnce() throws Exception {
        var artifacts = new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC());
        artifacts.put("models/iris/model.onnx", new ByteArrayInputStream(MODEL));
        artifacts.put("models/iris/extra.txt", new ByteArrayInputStream("x".getBytes(StandardCharsets.UTF_8)));
        var storage = new ModelStorage(dir.resolve("cache"), artifacts, b -> Optional.empty(), Duration.ofSeconds(30));
        var single = storage.fetch("capstan://artifacts/models/iris/model.onnx");
        assertThat(Files.readAllBytes(single)).isEqualTo(MODEL);
        var folder = storage.fetch("capstan://artifacts/models/iris");
        assertThat(Files.readAllBytes(folder.resolve("model.onnx"))).isEqualTo(MODEL);
        assertThat(folder.resolve("extra.txt")).exists();
        for (var uri : List.of("gs://b/m", "pvc://claim/m", "hdfs://n/m", "hf://org/m", "oci://image", "ftp://x/m", "relative/path",
                "s3://bucket/key", "capstan://artifacts/none", "/does/not/exist")) {
            assertThatThrownBy(() -> storage.fetch(uri)).as(uri).isInstanceOf(ModelLoadException.class);
        }
    }

    @Test
    void loggerSendsCloudEventsToAnHttpSink() throws Exception {
        var received = new ConcurrentLinkedQueue<String>();
        var web = WebServer.builder().host("127.0.0.1").port(0).routing(HttpRouting.builder()
                .post("/sink", (req, res) -> {
                    var body = req.content().as(String.class);
                    received.add(req.headers().get(io.helidon.http.HeaderNames.create("ce-type")).get() + " "
                            + req.headers().get(io.helidon.http.HeaderNames.create("ce-inferenceservicename")).get() + " " + body);
                    res.send();
                })).build().start();
        try (var logger = new PayloadLoggers("http://127.0.0.1:" + web.port() + "/sink", "all", 100, Clock.systemUTC())) {
            var revision = new Revision("default", "iris", 3, () -> { throw new ModelLoadException("unused"); },
                    RevisionSettings.defaults(), new SimpleMeterRegistry(), Clock.systemUTC());
            var request = new InferenceRequest("req-1", Map.of(), List.of(Tensor.ofFloats("x", new long[] {1}, new float[] {1f})), List.of());
            var response = new InferenceResponse("iris", "3", "req-1", Map.of(), List.of(Tensor.ofFloats("y", new long[] {1}, new float[] {2f})));
            logger.log("default", "iris", revision, request, response, false);
            InferenceServiceReconcilerTest.waitUntil(() -> received.size() == 2);
            assertThat(received).anyMatch(r -> r.startsWith("org.kubeflow.serving.inference.request iris") && r.contains("\"inputs\""));
            assertThat(received).anyMatch(r -> r.startsWith("org.kubeflow.serving.inference.response iris") && r.contains("\"outputs\""));
            revision.close();
        } finally {
            web.stop();
        }
    }

    @Test
    void metricsArePerModelAndRevision() throws Exception {
        var meters = new SimpleMeterRegistry();
        var revision = new Revision("team", "iris", 2, () -> new RevisionBehaviourTest.DoublingModel(0),
                RevisionSettings.defaults(), meters, Clock.systemUTC());
        revision.start();
        revision.infer(RevisionBehaviourTest.row(1, 2));
        assertThatThrownBy(() -> revision.infer(InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 3}, new float[3]))));
        assertThat(meters.get("capstan.serving.requests").tags("namespace", "team", "model", "iris", "revision", "2", "outcome", "success")
                .counter().count()).isEqualTo(1);
        assertThat(meters.get("capstan.serving.requests").tags("outcome", "invalid_input").counter().count()).isEqualTo(1);
        assertThat(meters.get("capstan.serving.request.duration").timer().count()).isEqualTo(2);
        assertThat(meters.get("capstan.serving.replicas").gauge().value()).isEqualTo(1);
        revision.close();
        assertThat(meters.find("capstan.serving.replicas").gauges()).as("a retired revision's meters go away").isEmpty();
    }
}
