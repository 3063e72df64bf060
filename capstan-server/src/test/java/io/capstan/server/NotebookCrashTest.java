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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 of a real server process while a notebook runs: the next server re-adopts the same Jupyter server. */
class NotebookCrashTest {
    private static final int LEASE_TTL_SECONDS = 60;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path home;

    @Test
    void aRunningNotebookIsReadoptedWithItsKernelsAndWorkspace() throws Exception {
        int port = freePort();
        var server = startServer(port);
        int jupyterPort = 0;
        try {
            var applied = send(port, "POST", "/apis/capstan/v1/apply", NotebookServerTest.NOTEBOOK, "application/yaml");
            assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
            var running = await(port, nb -> nb.path("status").path("phase").asText().equals("Running"));
            jupyterPort = running.path("status").path("port").asInt();
            var kernel = send(port, "POST", "/notebook/default/lab/api/kernels", "{\"name\": \"python3\"}", "application/json");
            assertThat(kernel.statusCode()).as(kernel.body()).isEqualTo(201);
            var kernelId = Json.json().readTree(kernel.body()).path("id").asText();
            var saved = send(port, "PUT", "/notebook/default/lab/api/contents/draft.txt",
                    "{\"type\": \"file\", \"format\": \"text\", \"content\": \"unsaved thoughts\"}", "application/json");
            assertThat(saved.statusCode()).as(saved.body()).isIn(200, 201);

            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            server = startServer(port);

            var after = await(port, nb -> nb.path("status").path("phase").asText().equals("Running"));
            assertThat(after.path("status").path("attempt").asInt()).as("re-adopted, not relaunched").isEqualTo(1);
            assertThat(after.path("status").path("port").asInt()).isEqualTo(jupyterPort);
            // The same Jupyter server: the kernel started before the kill is still there.
            var kernels = send(port, "GET", "/notebook/default/lab/api/kernels", null, null);
            assertThat(kernels.statusCode()).isEqualTo(200);
            assertThat(kernels.body()).contains(kernelId);
            var draft = send(port, "GET", "/notebook/default/lab/api/contents/draft.txt", null, null);
            assertThat(Json.json().readTree(draft.body()).path("content").asText()).isEqualTo("unsaved thoughts");

            // Deleting the re-adopted notebook stops its server, as it does before a restart (NotebookServerTest), also
            // while the killed server's lease has not lapsed yet and no replica leads: the next leader sweeps for it.
            var readiness = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(readiness.body()).as("deleted before this server leads").contains("following the live leader");
            assertThat(send(port, "DELETE", "/apis/capstan/v1/namespaces/default/notebooks/lab", null, null).statusCode()).isEqualTo(200);
            awaitClosed(jupyterPort, Duration.ofSeconds(LEASE_TTL_SECONDS + 45));
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            // Only so that a failed run leaks no Jupyter; the assertion above is what proves a delete stops it.
            killRecordedNotebookServers();
        }
    }

    private Process startServer(int port) throws IOException {
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var pb = new ProcessBuilder(java, "-Xss2m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.capstan.server.ServerMain");
        pb.environment().put("CAPSTAN_HOME", home.toString());
        pb.environment().put("CAPSTAN_PORT", Integer.toString(port));
        pb.environment().put("CAPSTAN_GRPC_PORT", Integer.toString(freePort()));
        pb.environment().put("CAPSTAN_RESYNC_SECONDS", "2");
        // Long enough that the restarted server follows the killed one's lease while the test checks and deletes.
        pb.environment().put("CAPSTAN_LEASE_TTL_SECONDS", Integer.toString(LEASE_TTL_SECONDS));
        pb.redirectErrorStream(true).redirectOutput(home.resolve("server-" + System.nanoTime() + ".log").toFile());
        var process = pb.start();
        var deadline = Instant.now().plusSeconds(120);
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
        throw new AssertionError("server did not become ready in 120 s");
    }

    private HttpResponse<String> send(int port, String method, String path, String body, String contentType) throws Exception {
        var builder = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(home).orElseThrow()).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) builder.header("Content-Type", contentType);
        return http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode await(int port, Predicate<JsonNode> done) throws Exception {
        var deadline = Instant.now().plusSeconds(60);
        JsonNode last = null;
        while (Instant.now().isBefore(deadline)) {
            last = Json.json().readTree(send(port, "GET", "/apis/capstan/v1/namespaces/default/notebooks/lab", null, null).body());
            if (done.test(last)) return last;
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError("timed out waiting on notebook lab; last: " + last);
    }

    /** Kills the process tree of every notebook workload the backend recorded under this test's home. */
    private void killRecordedNotebookServers() throws IOException {
        var workloads = home.resolve("work").resolve("workloads");
        if (!java.nio.file.Files.isDirectory(workloads)) return;
        try (var dirs = java.nio.file.Files.list(workloads)) {
            for (var dir : dirs.filter(d -> d.getFileName().toString().startsWith("nb_")).toList()) {
                var state = dir.resolve("state.json");
                if (!java.nio.file.Files.exists(state)) continue;
                long pid = Json.json().readTree(state.toFile()).path("pid").asLong(0);
                if (pid <= 0) continue;
                ProcessHandle.of(pid).ifPresent(p -> {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                });
            }
        }
    }

    private static void awaitClosed(int port, Duration timeout) {
        var deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            try (var s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
            } catch (IOException e) {
                return;
            }
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        throw new AssertionError("the notebook server on port " + port + " still listens after its Notebook was deleted");
    }

    private static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
