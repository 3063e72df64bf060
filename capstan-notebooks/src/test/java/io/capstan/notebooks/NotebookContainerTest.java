package io.capstan.notebooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.LocalBackend;
import io.capstan.backend.testing.TestImages;
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
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the server's {@code CAPSTAN_EXECUTION=container}, a Notebook with no {@code capstan.io/execution} of its own
 * runs its image through the container runner, in a real Podman. The image is built offline: busybox plus the host's
 * {@code /usr} mounted read-only through a claim (Debian's python3 and Jupyter Notebook), and the container's own
 * command starts Jupyter on {@code $PORT} under {@code $NB_PREFIX}, as a notebook image's entrypoint does.
 */
class NotebookContainerTest {
    static final ResourceKey KEY = new ResourceKey(Notebooks.KIND, "team-a", "boxed");

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    LocalBackend backend;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeEach
    void setUp() {
        TestImages.require();
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        if (backend != null) backend.shutdownAndKillAll(Duration.ofSeconds(10));
        if (db != null) db.close();
    }

    @Test
    void theServersExecutionContainerRunsTheNotebooksImage() throws Exception {
        var image = TestImages.image("notebook", Map.of());
        var env = new HashMap<>(System.getenv());
        env.put("CAPSTAN_EXECUTION", "container");
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("state")).withHostEnvironment(env));
        var root = dir.resolve("notebooks");
        // The claim "host-usr" is the host's /usr, so that the busybox image has python3 and Jupyter inside.
        Files.createDirectories(root.resolve("volumes/team-a"));
        Files.createSymbolicLink(root.resolve("volumes/team-a/host-usr"), Path.of("/usr"));
        store.create(new ResourceParser(ResourceKinds.of(Notebooks.kinds())).parse("nb.yaml", """
                apiVersion: kubeflow.org/v1
                kind: Notebook
                metadata: {name: boxed, namespace: team-a}
                spec:
                  template:
                    spec:
                      containers:
                      - name: boxed
                        image: %s
                        imagePullPolicy: Never
                        command: [/bin/sh, -c]
                        args: ["exec /usr/bin/python3 -m notebook --NotebookApp.base_url=$NB_PREFIX/ --NotebookApp.ip=127.0.0.1 --NotebookApp.port=$PORT --NotebookApp.port_retries=0 --NotebookApp.open_browser=False --NotebookApp.allow_root=True --NotebookApp.notebook_dir=/home/jovyan"]
                        env: [{name: HOME, value: /home/jovyan}, {name: JUPYTER_RUNTIME_DIR, value: /tmp/jupyter}]
                        volumeMounts: [{name: workspace, mountPath: /home/jovyan}, {name: usr, mountPath: /usr, readOnly: true}]
                      volumes:
                      - name: workspace
                        persistentVolumeClaim: {claimName: boxed-workspace}
                      - name: usr
                        persistentVolumeClaim: {claimName: host-usr}
                """.formatted(image)).getFirst());
        var settings = NotebookSettings.fromEnvironment(Map.of("CAPSTAN_EXECUTION", "container"));
        var reconciler = new Notebooks(store, backend, root, Clock.systemUTC(), WorkloadCredentials.none(), () -> "http://127.0.0.1:8080", settings)
                .reconciler();

        var running = drive(reconciler, r -> r.status().phase().equals("Running"), Duration.ofSeconds(120));
        var workloadId = running.status().field("workloadId").orElseThrow().asText();
        assertThat(TestImages.runningContainersOf(workloadId)).as("the server runs in a container").hasSize(1);
        int port = running.status().field("port").orElseThrow().asInt();
        var token = Files.readString(root.resolve("tokens").resolve(running.metadata().uid())).strip();
        assertThat(get(port, token, "api/status").statusCode()).isEqualTo(200);
        // Its /home/jovyan is the workspace claim's folder on the host.
        var saved = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/notebook/team-a/boxed/api/contents/hello.txt"))
                .header("Authorization", "token " + token).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"type\": \"file\", \"format\": \"text\", \"content\": \"from the container\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(saved.statusCode()).as(saved.body()).isIn(200, 201);
        assertThat(root.resolve("volumes/team-a/boxed-workspace/hello.txt")).hasContent("from the container");

        // Stopping it stops the container.
        var nb = store.get(KEY);
        var annotations = new HashMap<>(nb.metadata().annotations());
        annotations.put(Notebooks.STOPPED_ANNOTATION, "2026-01-01T00:00:00Z");
        store.update(nb.withMetadata(nb.metadata().withAnnotations(annotations)));
        drive(reconciler, r -> r.status().phase().equals("Stopped"), Duration.ofSeconds(60));
        assertThat(TestImages.runningContainersOf(workloadId)).isEmpty();
    }

    private Resource drive(io.capstan.store.Reconciler reconciler, Predicate<Resource> done, Duration timeout) {
        return ReconcilerDriver.drive(reconciler, store, KEY, done, timeout, () -> {
            var id = store.get(KEY).status().field("workloadId").map(n -> n.asText()).orElse("");
            return id.isEmpty() ? "" : "log: " + backend.tail(id, 20);
        });
    }

    private HttpResponse<String> get(int port, String token, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/notebook/team-a/boxed/" + path))
                .header("Authorization", "token " + token).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
