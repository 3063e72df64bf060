package io.capstan.server;

import static io.capstan.store.testing.TestProfiles.profile;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server follows Profiles into the backend's admission: two Jobs in a namespace of one pod, then a raised quota. */
class QuotaServerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path home;
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private static String job(String name, Path gate) {
        return """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: %s, namespace: team-a}
                spec: {command: [sh, -c, 'while [ ! -e %s ]; do sleep 0.05; done'], timeoutSeconds: 120}
                """.formatted(name, gate);
    }

    private static boolean condition(JsonNode job, String type, String status) {
        for (var c : job.path("status").path("conditions")) {
            if (c.path("type").asText().equals(type) && c.path("status").asText().equals(status)) return true;
        }
        return false;
    }

    private static JsonNode conditionOf(JsonNode job, String type) {
        for (var c : job.path("status").path("conditions")) if (c.path("type").asText().equals(type)) return c;
        throw new AssertionError("no " + type + " condition in " + job);
    }

    @Test
    void aSecondJobWaitsForTheNamespacesOnePodNamingTheQuotaAndStartsWhenTheProfileIsRaised() {
        server = new TestServer(home);
        var store = server.server.store();
        store.create(profile("team-a", Map.of("pods", "1")));
        var gate = home.resolve("gate");
        assertThat(server.apply(job("first", gate)).status()).isEqualTo(200);
        server.await("/apis/capstan/v1/namespaces/team-a/jobs/first", j -> j.path("status").path("phase").asText().equals("Running"), WAIT);

        assertThat(server.apply(job("second", gate)).status()).isEqualTo(200);
        var waiting = server.await("/apis/capstan/v1/namespaces/team-a/jobs/second", j -> condition(j, "QuotaExceeded", "True"), WAIT);

        assertThat(waiting.path("status").path("phase").asText()).isEqualTo("Pending");
        assertThat(conditionOf(waiting, "QuotaExceeded").path("reason").asText()).isEqualTo("ExceededQuota");
        assertThat(conditionOf(waiting, "QuotaExceeded").path("message").asText()).isEqualTo("namespace team-a: pods 1 of 1 in use, this workload asks 1");

        store.apply(profile("team-a", Map.of("pods", "2")));

        var running = server.await("/apis/capstan/v1/namespaces/team-a/jobs/second", j -> j.path("status").path("phase").asText().equals("Running"), WAIT);
        assertThat(conditionOf(running, "QuotaExceeded").path("status").asText()).isEqualTo("False");
    }
}
