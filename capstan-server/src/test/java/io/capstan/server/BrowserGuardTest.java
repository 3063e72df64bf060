package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.security.SecuritySettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a page on another site could make a browser send is refused before the token is looked at: bodies an HTML
 * form can send without a preflight, a foreign Origin, and a Host that DNS rebinding would produce.
 */
class BrowserGuardTest {
    static final String JOB = """
            apiVersion: capstan.io/v1
            kind: Job
            metadata: {name: %s}
            spec: {command: ["true"]}
            """;

    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(TestServer.config(home), SecuritySettings.defaults().withAllowedHosts(List.of("capstan.example.com")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void applyTakesOnlyJsonOrYaml() {
        for (var type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/yaml"}) {
            var reply = server.send("POST", "/apis/capstan/v1/apply", JOB.formatted("typed"), type);
            assertThat(reply.status()).as(type + ": " + reply.body()).isEqualTo(415);
            assertThat(reply.contentType()).isEqualTo("application/problem+json");
        }
        // A body without any Content-Type (java.net.http sends none unless told).
        var untyped = server.send("POST", "/apis/capstan/v1/apply", JOB.formatted("typed"), null);
        assertThat(untyped.status()).as(untyped.body()).isEqualTo(415);
        assertThat(server.server.store().find(new io.capstan.core.ResourceKey("Job", "default", "typed"))).isEmpty();

        assertThat(server.send("POST", "/apis/capstan/v1/apply", JOB.formatted("typed"), "application/yaml").status()).isEqualTo(200);
        assertThat(server.send("POST", "/apis/capstan/v1/apply", "{\"apiVersion\":\"capstan.io/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"json\"},"
                + "\"spec\":{\"command\":[\"true\"]}}", "application/json; charset=utf-8").status()).isEqualTo(200);
        // A DELETE without a body needs no type.
        assertThat(server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/json", null, null).status()).isEqualTo(200);
    }

    @Test
    void inferenceTakesJsonAndKfpUploadTakesMultipart() {
        var infer = server.send("POST", "/v2/models/m/infer", "{\"inputs\":[]}", "text/plain");
        assertThat(infer.status()).as(infer.body()).isEqualTo(415);
        assertThat(infer.body()).contains("application/json");
        // Past the guard: the model does not exist.
        assertThat(server.send("POST", "/v2/models/m/infer", "{\"inputs\":[]}", "application/json").status()).isEqualTo(404);
        assertThat(server.send("POST", "/v2/models/m/infer", "{\"inputs\":[]}", "application/yaml").status()).isEqualTo(415);
        // Multipart is for KFP's upload routes only; elsewhere it is what a form sends.
        var upload = server.send("POST", "/apis/v2beta1/pipelines/upload", "--x\r\n\r\n--x--\r\n", "multipart/form-data; boundary=x");
        assertThat(upload.status()).as(upload.body()).isNotEqualTo(415);
        assertThat(server.send("POST", "/apis/v2beta1/experiments", "--x\r\n\r\n--x--\r\n", "multipart/form-data; boundary=x").status()).isEqualTo(415);
    }

    @Test
    void aForeignOriginIsRefusedAndTheServersOwnIsNot() {
        var auth = "Bearer " + server.adminToken();
        var foreign = server.send("POST", "/apis/capstan/v1/apply", JOB.formatted("origin"), "application/yaml",
                Map.of("Authorization", auth, "Origin", "http://evil.example"));
        assertThat(foreign.status()).as(foreign.body()).isEqualTo(403);
        assertThat(server.send("GET", "/apis/capstan/v1/kinds", null, null, Map.of("Authorization", auth, "Origin", "null")).status()).isEqualTo(403);
        // Same host, other port: another origin.
        assertThat(server.send("GET", "/apis/capstan/v1/kinds", null, null,
                Map.of("Authorization", auth, "Origin", "http://127.0.0.1:" + (server.server.port() + 1))).status()).isEqualTo(403);
        var own = server.send("POST", "/apis/capstan/v1/apply", JOB.formatted("origin"), "application/yaml",
                Map.of("Authorization", auth, "Origin", "http://127.0.0.1:" + server.server.port()));
        assertThat(own.status()).as(own.body()).isEqualTo(200);
        assertThat(server.metric("capstan_auth_failures_total", "reason=\"origin\"")).isGreaterThanOrEqualTo(3);
    }

    @Test
    void aHostThatIsNeitherLoopbackNorAllowedIsRefused() {
        var auth = "Bearer " + server.adminToken();
        var rebound = server.sendRaw("GET", "/apis/capstan/v1/kinds", Map.of("Host", "attacker.example:" + server.server.port(), "Authorization", auth), null);
        assertThat(rebound.status()).isEqualTo(421);
        assertThat(rebound.body()).contains("--allowed-hosts").contains("attacker.example");
        // A name that merely starts like loopback is not loopback.
        assertThat(server.sendRaw("GET", "/apis/capstan/v1/kinds", Map.of("Host", "127.0.0.1.attacker.example", "Authorization", auth), null).status())
                .isEqualTo(421);
        for (var host : List.of("localhost:" + server.server.port(), "127.0.0.1", "127.1.2.3:9", "[::1]:" + server.server.port(),
                "capstan.example.com", "CAPSTAN.example.com:443")) {
            assertThat(server.sendRaw("GET", "/apis/capstan/v1/kinds", Map.of("Host", host, "Authorization", auth), null).status())
                    .as(host).isEqualTo(200);
        }
        // Probes that name the machine's address still reach health.
        assertThat(server.sendRaw("GET", "/healthz", Map.of("Host", "10.1.2.3:8080"), null).status()).isEqualTo(200);
        assertThat(server.metric("capstan_auth_failures_total", "reason=\"host\"")).isGreaterThanOrEqualTo(2);
    }
}
