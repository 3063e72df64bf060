package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.security.WorkloadScope;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every route but the health checks needs a known bearer token, through a real server and a real HTTP client. */
class AuthenticationTest {
    @TempDir
    static Path home;
    static TestServer server;

    /** One route of each family: resources, KFP, lineage, logs, trials, inference (REST v1 and v2), metrics and version. */
    private static final List<String> GUARDED = List.of(
            "/apis/capstan/v1/kinds",
            "/apis/capstan/v1/namespaces/default/jobs",
            "/apis/capstan/v1/jobs",
            "/apis/capstan/v1/namespaces/default/jobs/x/log",
            "/apis/capstan/v1/lineage/artifacts",
            "/apis/v2beta1/runs",
            "/apis/v2beta1/pipelines",
            "/v1/models",
            "/v2/models/x",
            "/v2/health/ready",
            "/metrics",
            "/version",
            "/no/such/path");

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void everyRouteButTheHealthChecksRefusesARequestWithoutAToken() {
        for (var path : GUARDED) {
            var reply = server.sendAs(null, "GET", path, null, null);
            assertThat(reply.status()).as(path).isEqualTo(401);
            assertThat(reply.contentType()).as(path).isEqualTo("application/problem+json");
            assertThat(reply.challenge()).as(path).isEqualTo("Bearer realm=\"capstan\"");
            assertThat(reply.json().path("detail").asText()).as(path).contains("Authorization: Bearer");
        }
        var apply = server.sendAs(null, "POST", "/apis/capstan/v1/apply", JOB, "application/yaml");
        assertThat(apply.status()).isEqualTo(401);
        assertThat(server.get("/apis/capstan/v1/namespaces/default/jobs/guarded").status()).isEqualTo(404);

        assertThat(server.sendAs(null, "GET", "/healthz", null, null).status()).isEqualTo(200);
        assertThat(server.sendAs(null, "GET", "/readyz", null, null).status()).isEqualTo(200);
    }

    @Test
    void unknownMalformedAndOtherSchemesAreRefused() {
        for (var header : List.of("Bearer capstan_unknown", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer" , "bearer\tx",
                "Bearer " + server.adminToken() + "x", "Bearer " + "a".repeat(10_000))) {
            var reply = server.send("GET", "/apis/capstan/v1/kinds", null, null, java.util.Map.of("Authorization", header));
            assertThat(reply.status()).as(header).isEqualTo(401);
            assertThat(reply.json().path("title").asText()).isEqualTo("Unauthorized");
            assertThat(reply.body()).doesNotContain(server.adminToken());
        }
    }

    @Test
    void theAdminTokenFromTheHomeFolderOpensEveryRoute() {
        assertThat(server.get("/apis/capstan/v1/kinds").status()).isEqualTo(200);
        assertThat(server.get("/metrics").status()).isEqualTo(200);
        assertThat(server.get("/version").status()).isEqualTo(200);
        var lower = server.send("GET", "/version", null, null, java.util.Map.of("Authorization", "bearer " + server.adminToken()));
        assertThat(lower.status()).isEqualTo(200);
    }

    @Test
    void aUserTokenWorksUntilRevokedOrExpired() {
        var tokens = server.server.tokens();
        var alice = tokens.createUserToken("alice@example.com", Optional.empty(), "");
        var brief = tokens.createUserToken("carol@example.com", Optional.of(Duration.ofMillis(1)), "");

        assertThat(server.sendAs(alice.token(), "GET", "/version", null, null).status()).isEqualTo(200);
        tokens.revoke(alice.info().id());
        assertThat(server.sendAs(alice.token(), "GET", "/version", null, null).status()).isEqualTo(401);
        assertThat(server.sendAs(brief.token(), "GET", "/version", null, null).status()).isEqualTo(401);
    }

    @Test
    void aTrialsTokenMayOnlyPushThatTrialsObservations() {
        var token = server.server.tokens().createWorkloadToken(
                new WorkloadScope("default", WorkloadScope.TRIAL_OBSERVATIONS, "trial-a"), Duration.ofMinutes(5)).token();
        var body = "{\"metrics\":[{\"name\":\"loss\",\"value\":1}]}";

        // Its own trial passes authentication (the trial does not exist, so the route answers 404).
        var own = server.sendAs(token, "POST", "/apis/capstan/v1/namespaces/default/trials/trial-a/observations", body, "application/json");
        assertThat(own.status()).isEqualTo(404);
        for (var path : List.of("/apis/capstan/v1/namespaces/default/trials/trial-b/observations",
                "/apis/capstan/v1/namespaces/other/trials/trial-a/observations")) {
            assertThat(server.sendAs(token, "POST", path, body, "application/json").status()).as(path).isEqualTo(403);
        }
        assertThat(server.sendAs(token, "GET", "/apis/capstan/v1/namespaces/default/jobs", null, null).status()).isEqualTo(403);
        assertThat(server.sendAs(token, "POST", "/apis/capstan/v1/apply", JOB, "application/yaml").status()).isEqualTo(403);
        assertThat(server.get("/apis/capstan/v1/namespaces/default/jobs/guarded").status()).isEqualTo(404);
    }

    @Test
    void theAdminTokenSurvivesARestart(@TempDir Path otherHome) {
        String first;
        try (var one = new TestServer(otherHome)) {
            first = one.adminToken();
        }
        try (var two = new TestServer(otherHome)) {
            assertThat(two.adminToken()).isEqualTo(first);
            assertThat(two.get("/version").status()).isEqualTo(200);
        }
    }

    @Test
    void metricsMayBeMadePublic(@TempDir Path otherHome) {
        try (var open = new TestServer(TestServer.config(otherHome).withMetricsPublic(true))) {
            assertThat(open.sendAs(null, "GET", "/metrics", null, null).status()).isEqualTo(200);
            assertThat(open.sendAs(null, "GET", "/version", null, null).status()).isEqualTo(401);
        }
    }

    private static final String JOB = """
            apiVersion: capstan.io/v1
            kind: Job
            metadata: {name: guarded}
            spec: {command: ["true"]}
            """;
}
