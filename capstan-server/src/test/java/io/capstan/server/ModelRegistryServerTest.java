package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Model Registry API served by a real Capstan server: its tables migrated at start-up, its routes behind the
 * server's authentication filter, upstream's rest.sh sequence answered over HTTP, and entities surviving a restart.
 */
class ModelRegistryServerTest {
    static final String API = "/api/model_registry/v1alpha3";
    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @Test
    void restShSequenceAgainstTheServer() {
        var rm = server.send("POST", API + "/registered_models", "{\"description\": \"lorem ipsum registered model\", \"name\": \"demo-1\"}", "application/json");
        assertThat(rm.status()).as(rm.body()).isEqualTo(201);
        var rmId = rm.json().path("id").asText();
        var mv = server.send("POST", API + "/model_versions", "{\"description\": \"lorem ipsum model version\", \"name\": \"v1\", \"author\": \"John Doe\","
                + " \"registeredModelId\": \"" + rmId + "\"}", "application/json");
        assertThat(mv.status()).as(mv.body()).isEqualTo(201);
        var mvId = mv.json().path("id").asText();
        var ma = server.send("POST", API + "/model_versions/" + mvId + "/artifacts", "{\"description\": \"lorem ipsum model artifact\","
                + " \"uri\": \"https://huggingface.co/tarilabs/mnist/resolve/v1.nb20231206162408/mnist.onnx\", \"name\": \"mnist\","
                + " \"modelFormatName\": \"onnx\", \"modelFormatVersion\": \"1\", \"storageKey\": \"aws-connection-unused\","
                + " \"storagePath\": \"unused just demo\", \"artifactType\": \"model-artifact\"}", "application/json");
        assertThat(ma.status()).as(ma.body()).isEqualTo(201);
        assertThat(ma.json().path("id").asText()).matches("[1-9][0-9]*");
        var isvcs = server.send("GET", API + "/inference_services", null, null);
        assertThat(isvcs.status()).isEqualTo(200);
        assertThat(isvcs.json().path("items").isArray()).isTrue();
        var found = server.send("GET", API + "/model_version?name=v1&parentResourceId=" + rmId, null, null);
        assertThat(found.json().path("id").asText()).isEqualTo(mvId);
    }

    @Test
    void needsAToken() {
        var anonymous = server.sendAs(null, "GET", API + "/registered_models", null, null);
        assertThat(anonymous.status()).isEqualTo(401);
    }

    @Test
    void aUserWithoutARoleInTheNamespaceIsRefused() {
        var token = server.send("POST", "/apis/capstan/v1/tokens", "{\"user\": \"mallory@example.com\", \"expires\": \"1h\"}", "application/json");
        assertThat(token.status()).as(token.body()).isBetween(200, 201);
        var denied = server.sendAs(token.json().path("token").asText(), "GET", API + "/registered_models?namespace=default", null, null);
        assertThat(denied.status()).as(denied.body()).isEqualTo(403);
        assertThat(denied.json().path("code").asText()).isEqualTo("403");
    }
}
