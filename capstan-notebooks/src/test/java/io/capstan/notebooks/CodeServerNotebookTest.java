package io.capstan.notebooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.LocalBackend;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VS Code ({@code group-one}) notebook on the host: a real code-server started by the controller on a real backend,
 * Running once its {@code /healthz} answers, culled by the heartbeat there, started again on the same workspace.
 */
class CodeServerNotebookTest {
    static final ResourceKey KEY = new ResourceKey(Notebooks.KIND, "team-a", "code");

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    LocalBackend backend;
    // HTTP/1.1: code-server answers an h2c upgrade attempt with a broken 400.
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

    /** code-server as the server finds it; CI installs it (.ci/code-server.sh), so there its absence fails the test. */
    static Path codeServer() {
        var found = NotebookLaunch.onPath(System.getenv().getOrDefault("CAPSTAN_CODE_SERVER", NotebookSettings.DEFAULTS.codeServer()));
        if (found.isEmpty() && "true".equals(System.getenv("CI"))) throw new AssertionError("CI needs code-server on PATH: .ci/code-server.sh installs it");
        if (found.isEmpty()) System.err.println("SKIPPED: code-server is not on PATH; .ci/code-server.sh installs it (npm, Node 20)");
        assumeTrue(found.isPresent(), "needs code-server on PATH (.ci/code-server.sh installs it from the npm registry)");
        return found.get();
    }

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("state")));
        store.create(new ResourceParser(ResourceKinds.of(Notebooks.kinds())).parse("nb.yaml", """
                apiVersion: kubeflow.org/v1
                kind: Notebook
                metadata:
                  name: code
                  namespace: team-a
                  annotations: {notebooks.kubeflow.org/server-type: group-one}
                spec:
                  template:
                    spec:
                      containers: [{name: code, image: kubeflownotebookswg/codeserver-python:v1.8.0}]
                """).getFirst());
    }

    @AfterEach
    void tearDown() {
        backend.shutdownAndKillAll(Duration.ofSeconds(10));
        db.close();
    }

    @Test
    void codeServerRunsIsCulledByItsHeartbeatAndStartsAgainWithItsWorkspace() throws Exception {
        var program = codeServer();
        var settings = new NotebookSettings(true, Duration.ofSeconds(15), Duration.ofMillis(500), "/usr/bin/python3", program.toString(),
                io.capstan.backend.ContainerOptions.Execution.AUTO);
        var reconciler = new Notebooks(store, backend, dir.resolve("notebooks"), Clock.systemUTC(), WorkloadCredentials.none(),
                () -> "http://127.0.0.1:8080", settings).reconciler();
        var running = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(90));
        assertThat(running.status().condition("Ready").orElseThrow().reason()).isEqualTo("Running");
        var workspace = Path.of(running.status().field("workspace").orElseThrow().asText());
        assertThat(workspace).endsWith(Path.of("volumes/team-a/code-workspace"));
        int port = running.status().field("port").orElseThrow().asInt();
        // code-server, not Jupyter, at the root (the proxy rewrites the base path), opening the workspace, unauthenticated.
        var root = get(port, "/");
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("Location").orElseThrow()).isEqualTo("./?folder=" + workspace);
        // Its settings live in the workspace, as ~/.local/share/code-server does in Kubeflow's image.
        var userData = workspace.resolve(".local/share/code-server");
        assertThat(userData).isDirectory();
        Files.createDirectories(userData.resolve("User"));
        Files.writeString(userData.resolve("User/settings.json"), "{\"editor.fontSize\": 17}\n");

        // That request was activity: code-server's heartbeat, which /healthz reports and asking it does not move.
        var heartbeat = Instant.ofEpochMilli(healthz(port).path("lastHeartbeat").asLong());
        var startTime = Instant.parse(running.status().field("startTime").orElseThrow().asText());
        assertThat(heartbeat).isAfter(startTime);
        assertThat(Instant.ofEpochMilli(healthz(port).path("lastHeartbeat").asLong())).isEqualTo(heartbeat);

        var culled = drive(reconciler, r -> r.status().phase().equals("Stopped"), Duration.ofSeconds(60));
        assertThat(culled.metadata().annotations()).containsEntry(Notebooks.LAST_ACTIVITY_ANNOTATION, heartbeat.toString())
                .containsKey(Notebooks.STOPPED_ANNOTATION);
        var why = culled.status().condition("Culled").orElseThrow();
        assertThat(why.reason()).isEqualTo("IdleCulled");
        assertThat(why.message()).contains("no activity since " + heartbeat).contains("CULL_IDLE_TIME PT15S");
        assertThat(backend.list()).isEmpty();
        assertThat(reachable(port)).isFalse();

        // Started again by removing the annotation: a new code-server, on the same workspace and settings.
        var annotations = new HashMap<>(culled.metadata().annotations());
        annotations.remove(Notebooks.STOPPED_ANNOTATION);
        store.update(culled.withMetadata(culled.metadata().withAnnotations(annotations)));
        var again = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(90));
        int newPort = again.status().field("port").orElseThrow().asInt();
        assertThat(get(newPort, "/").headers().firstValue("Location").orElseThrow()).isEqualTo("./?folder=" + workspace);
        assertThat(userData.resolve("User/settings.json")).hasContent("{\"editor.fontSize\": 17}");
        assertThat(again.status().condition("Culled").orElseThrow().status()).isEqualTo(io.capstan.core.Condition.Status.False);
    }

    @Test
    void aRewriteThatIsNotAPathIsRefusedNamingTheAnnotation() {
        var nb = store.get(KEY);
        var annotations = new HashMap<>(nb.metadata().annotations());
        annotations.put(Upstream.REWRITE_ANNOTATION, "root");
        store.update(nb.withMetadata(nb.metadata().withAnnotations(annotations)));
        var reconciler = new Notebooks(store, backend, dir.resolve("notebooks"), Clock.systemUTC(), WorkloadCredentials.none(),
                () -> "http://127.0.0.1:8080", NotebookSettings.DEFAULTS).reconciler();
        var failed = drive(reconciler, r -> r.status().phase().equals("Failed"), Duration.ofSeconds(10));
        assertThat(failed.status().condition("Ready").orElseThrow().reason()).isEqualTo("InvalidSpec");
        assertThat(failed.status().condition("Ready").orElseThrow().message()).contains("metadata.annotations[notebooks.kubeflow.org/http-rewrite-uri]")
                .contains("'root' is not a path");
        assertThat(backend.list()).isEmpty();
    }

    private Resource drive(io.capstan.store.Reconciler reconciler, Predicate<Resource> done, Duration timeout) {
        return ReconcilerDriver.drive(reconciler, store, KEY, done, timeout,
                () -> "log: " + backend.list().stream().map(w -> backend.tail(w.id(), 20).toString()).toList());
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode healthz(int port) throws Exception {
        var answer = get(port, "/healthz");
        assertThat(answer.statusCode()).isEqualTo(200);
        return Json.json().readTree(answer.body());
    }

    private static boolean reachable(int port) {
        try (var s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
