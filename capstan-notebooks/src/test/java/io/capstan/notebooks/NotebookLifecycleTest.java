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
    void notebooksCountAgainstTheNamespaceQuota() throws Exception {
        backend.shutdownAndKillAll(Duration.ofSeconds(10));
        var quotas = new io.capstan.core.quota.QuotaLedger();
        quotas.replaceQuotas(java.util.Map.of("team-a", io.capstan.core.quota.ResourceQuota.parse("team-a",
                io.capstan.core.Json.yaml().readTree("hard: {cpu: '1', pods: '5'}"), "spec.resourceQuotaSpec")));
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("state2")).withQuotas(quotas));
        var parser = new ResourceParser(ResourceKinds.of(Notebooks.kinds()));
        var notebooks = notebooks(NotebookSettings.DEFAULTS);
        var reconciler = notebooks.reconciler();
        store.delete(KEY);
        store.create(parser.parse("a.yaml", NOTEBOOK.replace("metadata: {name: idle,", "metadata: {name: first,").replace("image: kubeflownotebookswg/jupyter-scipy:v1.8.0",
                "image: kubeflownotebookswg/jupyter-scipy:v1.8.0, resources: {requests: {cpu: 800m}}")).getFirst());
        store.create(parser.parse("b.yaml", NOTEBOOK.replace("metadata: {name: idle,", "metadata: {name: second,").replace("image: kubeflownotebookswg/jupyter-scipy:v1.8.0",
                "image: kubeflownotebookswg/jupyter-scipy:v1.8.0, resources: {requests: {cpu: 500m}}")).getFirst());
        store.create(parser.parse("c.yaml", NOTEBOOK.replace("metadata: {name: idle,", "metadata: {name: huge,").replace("image: kubeflownotebookswg/jupyter-scipy:v1.8.0",
                "image: kubeflownotebookswg/jupyter-scipy:v1.8.0, resources: {requests: {cpu: '2'}}")).getFirst());
        var first = new ResourceKey(Notebooks.KIND, "team-a", "first");
        var second = new ResourceKey(Notebooks.KIND, "team-a", "second");
        var huge = new ResourceKey(Notebooks.KIND, "team-a", "huge");
        drive(reconciler, first, r -> r.status().phase().equals("Running"), Duration.ofSeconds(60));
        var waiting = drive(reconciler, second, r -> r.status().condition(io.capstan.core.quota.QuotaCondition.TYPE).isPresent(), Duration.ofSeconds(10));
        assertThat(waiting.status().phase()).isEqualTo("Pending");
        assertThat(waiting.status().condition("Ready").orElseThrow().message()).contains("team-a").contains("cpu");
        var refused = drive(reconciler, huge, r -> r.status().phase().equals("Failed"), Duration.ofSeconds(10));
        assertThat(refused.status().condition("Ready").orElseThrow().message()).contains("team-a").contains("cpu");

        // Stopping the first frees its share of the quota for the second.
        var nb = store.get(first);
        var annotations = new HashMap<>(nb.metadata().annotations());
        annotations.put(Notebooks.STOPPED_ANNOTATION, "2026-01-01T00:00:00Z");
        store.update(nb.withMetadata(nb.metadata().withAnnotations(annotations)));
        drive(reconciler, first, r -> r.status().phase().equals("Stopped"), Duration.ofSeconds(30));
        drive(reconciler, second, r -> r.status().phase().equals("Running"), Duration.ofSeconds(60));
    }

    @Test
    void aNotebookThatCannotRunOnTheHostSaysSo() {
        var nb = store.get(KEY);
        var annotations = new HashMap<>(nb.metadata().annotations());
        annotations.put(Notebooks.SERVER_TYPE_ANNOTATION, "group-two");
        store.update(nb.withMetadata(nb.metadata().withAnnotations(annotations)));
        var failed = drive(notebooks(NotebookSettings.DEFAULTS).reconciler(), r -> r.status().phase().equals("Failed"), Duration.ofSeconds(10));
        assertThat(failed.status().condition("Ready").orElseThrow().message()).contains("RStudio").contains("capstan.io/execution: container");
        assertThat(failed.status().condition("Ready").orElseThrow().reason()).isEqualTo("Unsupported");
        assertThat(backend.list()).as("no Jupyter started in its place").isEmpty();
        // VS Code without code-server (named by path, and absent): code-server is named as missing.
        annotations.put(Notebooks.SERVER_TYPE_ANNOTATION, "group-one");
        store.update(store.get(KEY).withMetadata(store.get(KEY).metadata().withAnnotations(annotations)));
        var missing = new NotebookSettings(true, java.time.Duration.ofDays(1), java.time.Duration.ofMinutes(1), "/usr/bin/python3",
                dir.resolve("no-such/code-server").toString(), io.capstan.backend.ContainerOptions.Execution.AUTO);
        store.updateStatus(store.get(KEY), store.get(KEY).status().withPhase(""));
        var again = drive(notebooks(missing).reconciler(), r -> r.status().phase().equals("Failed"), Duration.ofSeconds(10));
        assertThat(again.status().condition("Ready").orElseThrow().message()).contains("VS Code").contains("capstan.io/execution: container")
                .contains("no-such/code-server' is not on PATH");
        assertThat(again.status().condition("Ready").orElseThrow().reason()).isEqualTo("Unsupported");
        assertThat(backend.list()).as("no Jupyter started in its place").isEmpty();
    }

    private Resource drive(Reconciler reconciler, Predicate<Resource> done, Duration timeout) {
        return drive(reconciler, KEY, done, timeout);
    }

    private Resource drive(Reconciler reconciler, ResourceKey key, Predicate<Resource> done, Duration timeout) {
        return ReconcilerDriver.drive(reconciler, store, key, done, timeout, () -> "");
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
