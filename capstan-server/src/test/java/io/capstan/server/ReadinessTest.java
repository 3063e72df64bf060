package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /readyz} over HTTP: 200 with every check listed when all hold, 503 naming each check that a broken part fails. */
class ReadinessTest {
    @TempDir
    Path home;

    private static List<String> names(JsonNode array) {
        var names = new ArrayList<String>();
        array.forEach(n -> names.add(n.isTextual() ? n.asText() : n.path("name").asText()));
        return names;
    }

    @Test
    void aStartedServerIsReadyAndListsEachCheck() {
        try (var server = new TestServer(home)) {
            var r = server.get("/readyz");
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.contentType()).isEqualTo("application/json");
            var body = r.json();
            assertThat(body.path("ready").asBoolean()).isTrue();
            assertThat(names(body.path("checks"))).containsExactly("database", "migrations", "controllers", "serving");
            body.path("checks").forEach(c -> assertThat(c.path("ready").asBoolean()).as(c.toString()).isTrue());
            assertThat(body.path("checks").get(2).path("detail").asText()).contains("leads");
            assertThat(body.has("failing")).isFalse();
        }
    }

    @Test
    void stoppedControllersMakeItNotReady() {
        try (var server = new TestServer(home)) {
            server.server.controllers().close();
            var r = server.get("/readyz");
            assertThat(r.status()).as(r.body()).isEqualTo(503);
            assertThat(names(r.json().path("failing"))).containsExactly("controllers");
            assertThat(r.json().path("detail").asText()).contains("controllers (the controller runtime is not running)");
            // The process still answers: liveness is not readiness.
            assertThat(server.get("/healthz").status()).isEqualTo(200);
        }
    }

    @Test
    void aShutDownModelServerMakesItNotReady() {
        try (var server = new TestServer(home)) {
            server.server.serving().close();
            var r = server.get("/readyz");
            assertThat(r.status()).as(r.body()).isEqualTo(503);
            assertThat(names(r.json().path("failing"))).containsExactly("serving");
        }
    }

    @Test
    void aClosedDatabaseMakesItNotReady() {
        try (var server = new TestServer(home)) {
            server.server.database().close();
            var r = server.get("/readyz");
            assertThat(r.status()).as(r.body()).isEqualTo(503);
            assertThat(names(r.json().path("failing"))).contains("database");
            var database = r.json().path("checks").get(0);
            assertThat(database.path("ready").asBoolean()).isFalse();
            assertThat(database.path("detail").asText()).isNotBlank();
        }
    }

    @Test
    void aFollowerIsReadyWhileAnotherReplicaLeads() {
        try (var leader = new TestServer(home)) {
            var follower = startSecondReplica(leader);
            try {
                var r = follower.get("/readyz");
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(r.json().path("checks").get(2).path("detail").asText()).startsWith("following the live leader");
            } finally {
                follower.close();
            }
        }
    }

    /** A second server, with a home of its own, on the leader's database (one H2 file, shared within this JVM). */
    private TestServer startSecondReplica(TestServer leader) {
        return new TestServer(TestServer.config(home.resolve("replica")).withDbUrl(leader.server.config().dbUrl()));
    }
}
