package io.capstan.notebooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.LocalBackend;
import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.Reconciler;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes mode's notebooks are culled as local ones are: the controller reads a real Jupyter (Debian's Notebook,
 * standing in for the StatefulSet's pod at the Service's address) and, once it has been idle past CULL_IDLE_TIME,
 * stops it by the annotation, which scales the StatefulSet to 0. The test plays the StatefulSet controller.
 */
class ClusterNotebookReconcilerTest {
    static final ResourceKey KEY = new ResourceKey(Notebooks.KIND, "team-a", "idle");

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    LocalBackend unused;
    Process jupyter;
    int port;
    volatile int servicePort;

    /** The cluster: a StatefulSet of 0 or 1 replicas, ready once it has one, whose Service reaches the test's Jupyter. */
    final class StatefulSets implements NotebookCluster {
        volatile Integer replicas;
        volatile Optional<URI> capstanUrl = Optional.empty();
        final java.util.List<String> tokens = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public Optional<URI> capstanUrl() {
            return capstanUrl;
        }

        @Override
        public void apply(Resource notebook, Optional<String> newToken) {
            newToken.ifPresent(tokens::add);
            replicas = notebook.metadata().annotations().containsKey(Notebooks.STOPPED_ANNOTATION) ? 0 : 1;
        }

        @Override
        public Optional<Observed> observe(String namespace, String name) {
            var r = replicas;
            return r == null ? Optional.empty() : Optional.of(new Observed(r, r));
        }

        @Override
        public void delete(String namespace, String name) {
            replicas = null;
        }

        @Override
        public void reap(Set<String> namespaces, Set<String> live) {
        }

        @Override
        public URI address(String namespace, String name) {
            return URI.create("http://127.0.0.1:" + servicePort);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        unused = new LocalBackend(LocalBackend.Options.of(dir.resolve("state")));
        store.create(new ResourceParser(ResourceKinds.of(Notebooks.kinds())).parse("nb.yaml", NotebookLifecycleTest.NOTEBOOK).getFirst());
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        servicePort = port;
        var pb = new ProcessBuilder("/usr/bin/python3", "-m", "notebook", "--NotebookApp.base_url=/notebook/team-a/idle/",
                "--NotebookApp.ip=127.0.0.1", "--NotebookApp.port=" + port, "--NotebookApp.port_retries=0", "--NotebookApp.token=",
                "--NotebookApp.password=", "--NotebookApp.open_browser=False", "--NotebookApp.allow_root=True",
                "--NotebookApp.notebook_dir=" + Files.createDirectories(dir.resolve("pod-home")));
        pb.environment().put("JUPYTER_RUNTIME_DIR", Files.createDirectories(dir.resolve("pod-runtime")).toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("jupyter.log").toFile());
        jupyter = pb.start();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        jupyter.descendants().forEach(ProcessHandle::destroyForcibly);
        jupyter.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        unused.shutdownAndKillAll(Duration.ofSeconds(5));
        db.close();
    }

    @Test
    void anIdleNotebookOnTheClusterIsCulledToZeroReplicasAndStartsAgainWhenTheAnnotationGoes() {
        var cluster = new StatefulSets();
        var settings = new NotebookSettings(true, Duration.ofSeconds(3), Duration.ofSeconds(1), "/usr/bin/python3", "code-server",
                io.capstan.backend.ContainerOptions.Execution.AUTO);
        var reconciler = new Notebooks(store, unused, dir.resolve("notebooks"), Clock.systemUTC(), WorkloadCredentials.none(),
                () -> "http://127.0.0.1:8080", settings, Optional.of(cluster)).reconciler();

        var running = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(90));
        assertThat(cluster.replicas).isEqualTo(1);
        assertThat(running.status().field("lastActivity")).isPresent();

        // Nobody uses it: past 3 s idle it is stopped by the annotation, and the StatefulSet goes to 0 replicas.
        var culled = drive(reconciler, r -> r.status().phase().equals("Stopped"), Duration.ofSeconds(30));
        assertThat(culled.metadata().annotations()).containsKey(Notebooks.STOPPED_ANNOTATION).containsKey(Notebooks.LAST_ACTIVITY_ANNOTATION);
        var why = culled.status().condition("Culled").orElseThrow();
        assertThat(why.status()).isEqualTo(Condition.Status.True);
        assertThat(why.reason()).isEqualTo("IdleCulled");
        assertThat(why.message()).contains("CULL_IDLE_TIME PT3S");
        assertThat(cluster.replicas).isEqualTo(0);

        // Removing the annotation starts it again, and status says it was started after the cull.
        var nb = store.get(KEY);
        var annotations = new HashMap<>(nb.metadata().annotations());
        annotations.remove(Notebooks.STOPPED_ANNOTATION);
        store.update(nb.withMetadata(nb.metadata().withAnnotations(annotations)));
        var again = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(30));
        assertThat(cluster.replicas).isEqualTo(1);
        assertThat(again.status().condition("Culled").orElseThrow().status()).isEqualTo(Condition.Status.False);
        assertThat(again.status().condition("Culled").orElseThrow().reason()).isEqualTo("Started");
    }

    @Test
    void aRunningNotebookStaysRunningThroughAMissedProbeAndTurnsPendingAfterThree() throws IOException {
        var cluster = new StatefulSets();
        var settings = new NotebookSettings(true, Duration.ofHours(1), Duration.ofMinutes(1), "/usr/bin/python3", "code-server",
                io.capstan.backend.ContainerOptions.Execution.AUTO);
        var reconciler = new Notebooks(store, unused, dir.resolve("notebooks"), Clock.systemUTC(), WorkloadCredentials.none(),
                () -> "http://127.0.0.1:8080", settings, Optional.of(cluster)).reconciler();
        drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(90));

        // The Service stops answering (a kernel starting, a slow node): two misses leave it Running, so the proxy stays open.
        try (var s = new ServerSocket(0)) {
            servicePort = s.getLocalPort();
        }
        for (int missed = 1; missed < MissedProbes.FAILURE_THRESHOLD; missed++) {
            reconciler.reconcile(KEY);
            var status = store.get(KEY).status();
            assertThat(status.phase()).isEqualTo("Running");
            assertThat(status.field(MissedProbes.FIELD).orElseThrow().asInt()).isEqualTo(missed);
        }
        // The third miss in a row: Pending, and it says why.
        reconciler.reconcile(KEY);
        var pending = store.get(KEY).status();
        assertThat(pending.phase()).isEqualTo("Pending");
        assertThat(pending.condition("Ready").orElseThrow().message()).contains("does not answer");

        // It answers again: Running, with the count reset.
        servicePort = port;
        var back = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(30));
        assertThat(back.status().field(MissedProbes.FIELD).orElseThrow().asInt()).isZero();
    }

    @Test
    void aNotebookGetsAScopedTokenWhenItStartsAndANewOneBeforeItExpiresAndNoneWithoutAClusterUrl() {
        var cluster = new StatefulSets();
        cluster.capstanUrl = Optional.of(URI.create("http://capstan.capstan-system.svc:8080"));
        var clock = new io.capstan.store.testing.MutableClock(java.time.Instant.now());
        var scopes = new java.util.concurrent.CopyOnWriteArrayList<io.capstan.core.security.WorkloadScope>();
        WorkloadCredentials credentials = scope -> {
            scopes.add(scope);
            return "token-" + scopes.size();
        };
        var settings = new NotebookSettings(false, Duration.ofHours(1), Duration.ofMinutes(1), "/usr/bin/python3", "code-server",
                io.capstan.backend.ContainerOptions.Execution.AUTO);
        var reconciler = new Notebooks(store, unused, dir.resolve("notebooks"), clock, credentials,
                () -> "http://127.0.0.1:8080", settings, Optional.of(cluster)).reconciler();

        var running = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(90));
        assertThat(cluster.tokens).containsExactly("token-1");
        assertThat(scopes.getFirst()).isEqualTo(new io.capstan.core.security.WorkloadScope("team-a", io.capstan.core.security.WorkloadScope.NOTEBOOK, "idle"));
        var access = running.status().condition("CapstanAccess").orElseThrow();
        assertThat(access.status()).isEqualTo(Condition.Status.True);
        assertThat(access.message()).contains("http://capstan.capstan-system.svc:8080");

        // Passes within the refresh period hand out nothing new; past it, the next token replaces the first.
        reconciler.reconcile(KEY);
        clock.advance(ClusterNotebookReconciler.TOKEN_REFRESH.minusMinutes(1));
        reconciler.reconcile(KEY);
        assertThat(cluster.tokens).containsExactly("token-1");
        clock.advance(Duration.ofMinutes(2));
        var result = reconciler.reconcile(KEY);
        assertThat(cluster.tokens).containsExactly("token-1", "token-2");
        assertThat(result.requeueAfter().orElseThrow()).isLessThanOrEqualTo(ClusterNotebookReconciler.TOKEN_REFRESH);
        assertThat(store.get(KEY).status().phase()).isEqualTo("Running");

        // A server without an in-cluster URL hands out no token, and the notebook's status says why.
        var other = new StatefulSets();
        var noUrl = new Notebooks(store, unused, dir.resolve("notebooks"), clock, credentials,
                () -> "http://127.0.0.1:8080", settings, Optional.of(other)).reconciler();
        drive(noUrl, r -> r.status().condition("CapstanAccess").map(c -> c.status() == Condition.Status.False).orElse(false), Duration.ofSeconds(30));
        assertThat(other.tokens).isEmpty();
        assertThat(store.get(KEY).status().condition("CapstanAccess").orElseThrow().message()).contains("CAPSTAN_CLUSTER_URL");
    }

    private Resource drive(Reconciler reconciler, Predicate<Resource> done, Duration timeout) {
        return ReconcilerDriver.drive(reconciler, store, KEY, done, timeout, () -> "");
    }
}
