package io.capstan.notebooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.LocalBackend;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.Reconciler;
import io.capstan.store.testing.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller on a real store and a real backend: Debian's Jupyter Notebook started, culled, started again, re-adopted. */
class NotebookLifecycleTest {
    static final String NOTEBOOK = """
            apiVersion: kubeflow.org/v1
            kind: Notebook
            metadata: {name: idle, namespace: team-a}
            spec:
              template:
                spec:
                  containers: [{name: idle, image: kubeflownotebookswg/jupyter-scipy:v1.8.0}]
            """;
    static final ResourceKey KEY = new ResourceKey(Notebooks.KIND, "team-a", "idle");

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    LocalBackend backend;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("state")));
        store.create(new ResourceParser(ResourceKinds.of(Notebooks.kinds())).parse("nb.yaml", NOTEBOOK).getFirst());
    }

    @AfterEach
    void tearDown() {
        backend.shutdownAndKillAll(Duration.ofSeconds(10));
        db.close();
    }

    private Notebooks notebooks(NotebookSettings settings) {
        return new Notebooks(store, backend, dir.resolve("notebooks"), Clock.systemUTC(), WorkloadCredentials.none(),
                () -> "http://127.0.0.1:8080", settings);
    }

    @Test
    void anIdleNotebookIsCulledSaysWhyAndStartsAgainWithItsWorkspace() throws Exception {
        var reconciler = notebooks(NotebookSettings.DEFAULTS.withCulling(Duration.ofSeconds(4), Duration.ofMillis(500))).reconciler();
        var running = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(60));
        var workspace = Path.of(running.status().field("workspace").orElseThrow().asText());
        assertThat(workspace).endsWith(Path.of("volumes/team-a/idle-workspace"));
        Files.writeString(workspace.resolve("analysis.py"), "print('kept')\n");
        int port = running.status().field("port").orElseThrow().asInt();
        var token = Files.readString(dir.resolve("notebooks/tokens").resolve(running.metadata().uid()));

        // Activity (here, API calls as a browser makes them) keeps it alive past the idle time.
        long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
        while (System.nanoTime() < until) {
            assertThat(get(port, token, "api/contents").statusCode()).isEqualTo(200);
            reconciler.reconcile(KEY);
            assertThat(store.get(KEY).status().phase()).isEqualTo("Running");
            Thread.sleep(400);
        }

        var culled = drive(reconciler, r -> r.status().phase().equals("Stopped"), Duration.ofSeconds(30));
        assertThat(culled.metadata().annotations()).containsKeys(Notebooks.STOPPED_ANNOTATION, Notebooks.LAST_ACTIVITY_ANNOTATION);
        var why = culled.status().condition("Culled").orElseThrow();
        assertThat(why.status()).isEqualTo(io.capstan.core.Condition.Status.True);
        assertThat(why.reason()).isEqualTo("IdleCulled");
        assertThat(why.message()).contains("CULL_IDLE_TIME PT4S").contains("no activity since");
        assertThat(backend.list()).isEmpty();
        assertThat(reachable(port)).isFalse();
        assertThat(workspace.resolve("analysis.py")).hasContent("print('kept')");

        // Removing the annotation starts it again, on the same workspace.
        var annotations = new HashMap<>(culled.metadata().annotations());
        annotations.remove(Notebooks.STOPPED_ANNOTATION);
        store.update(culled.withMetadata(culled.metadata().withAnnotations(annotations)));
        var again = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(60));
        assertThat(again.status().condition("Culled").orElseThrow().status()).isEqualTo(io.capstan.core.Condition.Status.False);
        int newPort = again.status().field("port").orElseThrow().asInt();
        var listed = get(newPort, token, "api/contents");
        assertThat(listed.body()).contains("analysis.py");
    }

    @Test
    void aRunningServerIsReadoptedByTheNextBackendAndController() throws Exception {
        var settings = NotebookSettings.DEFAULTS;
        var running = drive(notebooks(settings).reconciler(), r -> r.status().phase().equals("Running"), Duration.ofSeconds(60));
        var workloadId = running.status().field("workloadId").orElseThrow().asText();
        int port = running.status().field("port").orElseThrow().asInt();
        var token = Files.readString(dir.resolve("notebooks/tokens").resolve(running.metadata().uid()));
        var started = get(port, token, "api/status").body();

        // As after a crash of Capstan: the old backend stops watching, the server lives on; new ones take over.
        backend.close();
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("state")));
        var reconciler = notebooks(settings).reconciler();
        reconciler.reconcile(KEY);
        var after = store.get(KEY);
        assertThat(after.status().phase()).isEqualTo("Running");
        assertThat(after.status().field("workloadId").orElseThrow().asText()).isEqualTo(workloadId);
        assertThat(after.status().field("attempt").orElseThrow().asInt()).isEqualTo(1);
        // The same server process: its start time is unchanged.
        assertThat(get(port, token, "api/status").body()).contains(com.fasterxml.jackson.databind.json.JsonMapper.builder().build()
                .readTree(started).path("started").asText());
    }

    @Test
    void aNotebookThatCannotRunOnTheHostSaysSo() {
        var nb = store.get(KEY);
        var annotations = new HashMap<>(nb.metadata().annotations());
        annotations.put(Notebooks.SERVER_TYPE_ANNOTATION, "group-one");
        store.update(nb.withMetadata(nb.metadata().withAnnotations(annotations)));
        var failed = drive(notebooks(NotebookSettings.DEFAULTS).reconciler(), r -> r.status().phase().equals("Failed"), Duration.ofSeconds(10));
        assertThat(failed.status().condition("Ready").orElseThrow().message()).contains("VS Code").contains("capstan.io/execution: container");
        assertThat(backend.list()).isEmpty();
    }

    private Resource drive(Reconciler reconciler, Predicate<Resource> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            var result = reconciler.reconcile(KEY);
            var r = store.get(KEY);
            if (done.test(r)) return r;
            var wait = result.requeueAfter().orElse(Duration.ofMillis(100));
            try {
                Thread.sleep(Math.min(wait.toMillis(), 200));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("not done after " + timeout + ": " + store.get(KEY).status());
    }

    private HttpResponse<String> get(int port, String token, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/notebook/team-a/idle/" + path))
                .header("Authorization", "token " + token).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
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
