package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.server.http.Bodies;
import io.capstan.serving.http.InferenceHttpService;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference over the assembled server's HTTP port: request bodies are limited per InferenceService (16 MiB by
 * default, or the {@code serving.capstan.io/max-request-bytes} annotation), not by the API's 4 MiB, and KServe's V1
 * model list answers.
 */
class ServingHttpTest {
    static final int DEFAULT_LIMIT = InferenceHttpService.DEFAULT_MAX_BODY_BYTES;
    static final int SMALL_LIMIT = 1024 * 1024;

    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        for (var entry : new String[][] {{"big", null}, {"small", "1Mi"}, {"odd", "lots"}}) {
            var annotations = entry[1] == null ? "" : "\n  annotations: {serving.capstan.io/max-request-bytes: \"" + entry[1] + "\"}";
            var reply = server.apply("""
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata:
                      name: %s%s
                    spec:
                      predictor:
                        model:
                          modelFormat: {name: test-row-sum}
                    """.formatted(entry[0], annotations));
            assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        }
        for (var name : new String[] {"big", "small", "odd"}) {
            server.await("/apis/capstan/v1/namespaces/default/inferenceservices/" + name,
                    isvc -> isvc.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(60));
        }
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** An OIP request of exactly {@code size} bytes: one row [1, 2, 3], padded with whitespace. */
    static String inferBody(int size) {
        var head = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]";
        return head + " ".repeat(size - head.length() - 1) + "}";
    }

    /** A V1 request of exactly {@code size} bytes. */
    static String predictBody(int size) {
        var head = "{\"instances\":[[1,2,3]]";
        return head + " ".repeat(size - head.length() - 1) + "}";
    }

    static TestServer.Reply post(String path, String body) {
        return server.send("POST", path, body, "application/json");
    }

    @Test
    void anInferenceRequestUpToTheDefault16MiBIsServedAndOneByteMoreIs413() {
        var atLimit = post("/v2/models/big/infer", inferBody(DEFAULT_LIMIT));
        assertThat(atLimit.status()).as(atLimit.body()).isEqualTo(200);
        assertThat(atLimit.json().path("outputs").get(0).path("data").get(0).asDouble()).isEqualTo(6.0);
        var over = post("/v2/models/big/infer", inferBody(DEFAULT_LIMIT + 1));
        assertThat(over.status()).as(over.body()).isEqualTo(413);
        assertThat(over.contentType()).startsWith("application/json");
        assertThat(over.json().path("error").asText()).contains("over the limit of " + DEFAULT_LIMIT + " bytes", "model 'big'",
                "serving.capstan.io/max-request-bytes");
        var v1 = post("/serving/default/v1/models/big:predict", predictBody(DEFAULT_LIMIT));
        assertThat(v1.status()).as(v1.body()).isEqualTo(200);
        assertThat(v1.json().path("predictions").get(0).asDouble()).isEqualTo(6.0);
    }

    @Test
    void anInferenceServiceSetsItsOwnLimitWithTheAnnotation() {
        var atLimit = post("/serving/default/v2/models/small/infer", inferBody(SMALL_LIMIT));
        assertThat(atLimit.status()).as(atLimit.body()).isEqualTo(200);
        var over = post("/v2/models/small/infer", inferBody(SMALL_LIMIT + 1));
        assertThat(over.status()).as(over.body()).isEqualTo(413);
        assertThat(over.json().path("error").asText()).contains("over the limit of " + SMALL_LIMIT + " bytes", "model 'small'");
        var v1Over = post("/v1/models/small:predict", predictBody(SMALL_LIMIT + 1));
        assertThat(v1Over.status()).as(v1Over.body()).isEqualTo(413);
        assertThat(post("/v1/models/small:predict", predictBody(SMALL_LIMIT)).status()).isEqualTo(200);
    }

    @Test
    void aBadLimitIsReportedByFieldAndTheDefaultApplies() {
        var isvc = server.get("/apis/capstan/v1/namespaces/default/inferenceservices/odd").json();
        assertThat(isvc.path("status").path("warnings").toString())
                .contains("metadata.annotations[serving.capstan.io/max-request-bytes]: 'lots' is not a size");
        var overTheApiLimit = post("/v2/models/odd/infer", inferBody(Bodies.MAX_BODY_BYTES + 1));
        assertThat(overTheApiLimit.status()).as(overTheApiLimit.body()).isEqualTo(200);
    }

    @Test
    void theRestOfTheApiKeeps4MiB() {
        var padding = "#".repeat(Bodies.MAX_BODY_BYTES + 1);
        var reply = server.apply(padding);
        assertThat(reply.status()).isEqualTo(413);
        assertThat(reply.contentType()).startsWith("application/problem+json");
        assertThat(reply.json().path("detail").asText()).contains("4 MiB");
    }

    @Test
    void v1ListsTheModels() {
        var all = server.get("/v1/models");
        assertThat(all.status()).as(all.body()).isEqualTo(200);
        assertThat(all.json().toString()).isEqualTo("{\"models\":[\"big\",\"odd\",\"small\"]}");
        assertThat(server.get("/serving/default/v1/models").json().toString()).isEqualTo("{\"models\":[\"big\",\"odd\",\"small\"]}");
        assertThat(server.get("/serving/elsewhere/v1/models").json().toString()).isEqualTo("{\"models\":[]}");
    }
}
