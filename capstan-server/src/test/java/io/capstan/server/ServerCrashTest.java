package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a real server process while workloads run, then a restart on the same home. */
class ServerCrashTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path home;

    @Test
    void killedServerLosesNothingAndReadoptsOrRetriesEachWorkload() throws Exception {
        int port = freePort();
        var server = startServer(port);
        try {
            var jobs = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                jobs.append("""
                        apiVersion: capstan.io/v1
                        kind: Job
                        metadata: {name: steady-%d}
                        spec:
                          command: [sh, -c, 'echo start >> %s; sleep 4; echo done >> %s']
                        ---
                        """.formatted(i, home.resolve("steady-" + i), home.resolve("steady-" + i)));
            }
            var victimPid = home.resolve("victim.pid");
            var victimRetried = home.resolve("victim.retried");
            jobs.append("""
                    apiVersion: capstan.io/v1
                    kind: Job
                    metadata: {name: victim}
                    spec:
                      backoffLimit: 1
                      command: [sh, -c, 'if [ -f %2$s ]; then echo second; exit 0; fi; touch %2$s; echo $$ > %1$s; exec sleep 60']
                    """.formatted(victimPid, victimRetried));
            var applied = post(port, "/apis/capstan/v1/apply", jobs.toString());
            assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
            for (var name : List.of("steady-0", "steady-1", "steady-2", "victim")) {
                await(port, name, j -> j.path("status").path("phase").asText().equals("Running"), Duration.ofSeconds(20));
            }
            await(port, "victim", j -> Files.exists(victimPid), Duration.ofSeconds(10));

            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            // While the server is down, the victim's process dies: its wrapper records the signal as the exit.
            long pid = Long.parseLong(Files.readString(victimPid).trim());
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);

            server = startServer(port);
            for (int i = 0; i < 3; i++) {
                var done = await(port, "steady-" + i, j -> j.path("status").path("phase").asText().equals("Succeeded"), Duration.ofSeconds(30));
                assertThat(done.path("status").path("attempts").asInt()).as("steady-%d re-adopted, not relaunched", i).isEqualTo(1);
                assertThat(Files.readAllLines(home.resolve("steady-" + i))).as("steady-%d ran exactly once", i).containsExactly("start", "done");
            }
            var victim = await(port, "victim", j -> j.path("status").path("phase").asText().equals("Succeeded"), Duration.ofSeconds(30));
            assertThat(victim.path("status").path("attempts").asInt()).isEqualTo(2);
            var all = get(port, "/apis/capstan/v1/namespaces/default/jobs");
            assertThat(all.path("items")).hasSize(4);
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aResourceAcknowledgedJustBeforeAKillSurvivesIt() throws Exception {
        int port = freePort();
        var server = startServer(port);
        try {
            var applied = post(port, "/apis/capstan/v1/apply",
                    "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: last-word}\nspec: {command: [\"true\"]}\n");
            assertThat(applied.statusCode()).isEqualTo(200);
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            server = startServer(port);
            var job = get(port, "/apis/capstan/v1/namespaces/default/jobs/last-word");
            assertThat(job.path("metadata").path("name").asText()).as(job.toString()).isEqualTo("last-word");
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process startServer(int port) throws IOException {
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var pb = new ProcessBuilder(java, "-Xss2m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.capstan.server.ServerMain");
        pb.environment().put("CAPSTAN_HOME", home.toString());
        pb.environment().put("CAPSTAN_PORT", Integer.toString(port));
        // Not the default 8081, which another server on this machine may hold (the server would exit at start).
        pb.environment().put("CAPSTAN_GRPC_PORT", Integer.toString(freePort()));
        pb.environment().put("CAPSTAN_RESYNC_SECONDS", "2");
        pb.redirectErrorStream(true).redirectOutput(home.resolve("server-" + System.nanoTime() + ".log").toFile());
        var process = pb.start();
        var deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) throw new AssertionError("server exited with " + process.exitValue());
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return process;
            } catch (IOException | InterruptedException e) {
                // not listening yet
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        process.destroyForcibly();
        throw new AssertionError("server did not become ready in 60 s");
    }

    private HttpResponse<String> post(int port, String path, String yaml) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(home).orElseThrow())
                .header("Content-Type", "application/yaml").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(yaml)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(int port, String path) throws Exception {
        var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(home).orElseThrow())
                        .timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.json().readTree(r.body());
    }

    private JsonNode await(int port, String job, Predicate<JsonNode> done, Duration timeout) throws Exception {
        var deadline = Instant.now().plus(timeout);
        JsonNode last = null;
        while (Instant.now().isBefore(deadline)) {
            last = get(port, "/apis/capstan/v1/namespaces/default/jobs/" + job);
            if (done.test(last)) return last;
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError("timed out waiting on job " + job + "; last: " + last);
    }

    private static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
