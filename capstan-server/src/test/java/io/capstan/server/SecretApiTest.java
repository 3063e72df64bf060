package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code v1 Secret} and {@code ConfigMap} applied through the API as Kubernetes users write them. */
class SecretApiTest {
    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aSecretAndAConfigMapAreAppliedAndReadBack() {
        var applied = server.apply("""
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                type: Opaque
                data: {password: czNjcjN0}
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data: {mode: fast}
                """);
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);

        var secret = server.get("/apis/capstan/v1/namespaces/default/secrets/db");
        assertThat(secret.status()).isEqualTo(200);
        assertThat(secret.json().path("apiVersion").asText()).isEqualTo("v1");
        assertThat(secret.json().path("spec").path("data").path("password").asText()).isEqualTo("czNjcjN0");
        assertThat(server.get("/apis/capstan/v1/namespaces/default/configmaps/settings").json()
                .path("spec").path("data").path("mode").asText()).isEqualTo("fast");
    }

    @Test
    void aSecretWhoseDataIsNotBase64IsRefusedNamingTheKey() {
        var reply = server.apply("""
                apiVersion: v1
                kind: Secret
                metadata: {name: broken}
                data: {password: "s3cr3t!"}
                """);

        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.contentType()).startsWith("application/problem+json");
        assertThat(reply.json().path("errors").get(0).path("field").asText()).isEqualTo("data.password");
        assertThat(reply.json().path("errors").get(0).path("line").asInt()).isEqualTo(4);
        assertThat(reply.json().path("detail").asText()).contains("is not base64").contains("stringData");
        assertThat(server.get("/apis/capstan/v1/namespaces/default/secrets/broken").status()).isEqualTo(404);
    }
}
