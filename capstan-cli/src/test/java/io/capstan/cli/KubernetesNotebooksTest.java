package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.Backend;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.kubernetes.ServerBackend;
import io.capstan.kubernetes.testing.Eventually;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.capstan.notebooks.NotebookCluster;
import io.capstan.server.CapstanServer;
import io.capstan.server.KubernetesMode;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Notebooks in {@code capstan server --backend kubernetes}, against fabric8's mock API server in CRUD mode where the
 * test plays the StatefulSet controller and the kubelet: a Notebook becomes the StatefulSet and Service upstream's
 * notebook controller makes, the stop annotation scales it to 0 and back to 1, a delete removes both, and the
 * {@code /notebook/} proxy reaches the Service's address, which the test resolves to a real Jupyter Notebook started
 * on 127.0.0.1 (standing in for the pod).
 */
class KubernetesNotebooksTest {
    static final String NS = "capstan-nb";
    static final String NOTEBOOK = """
            apiVersion: kubeflow.org/v1
            kind: Notebook
            metadata: {name: lab, namespace: team-a}
            spec:
              template:
                spec:
                  containers:
                  - name: lab
                    image: kubeflownotebookswg/jupyter-scipy:v1.8.0
                    resources: {requests: {cpu: 500m, memory: 1Gi}}
                    volumeMounts: [{name: workspace, mountPath: /home/jovyan}]
                  volumes:
                  - name: workspace
                    persistentVolumeClaim: {claimName: lab-workspace}
            """;

    private static final URI CLUSTER_URL = URI.create("http://capstan.capstan-system.svc:8080");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path home;

    @Test
    void aNotebookIsAStatefulSetAndAServiceAndTheProxyReachesTheService() throws Exception {
        int jupyterPort = freePort();
        var cluster = MockCluster.start();
        Process jupyter = null;
        try (KubernetesClient kubectl = cluster.createClient()) {
            var kubelet = new Kubelet(cluster, kubectl, NS);
            var map = ServerBackend.NamespaceMap.parse("*=" + NS);
            var resolved = new java.util.concurrent.ConcurrentHashMap<String, URI>();
            var workloads = new KubernetesMode.WorkloadBackend() {
                @Override
                public Backend open(Path stateDir) {
                    return ServerBackend.open(cluster.createClient(), stateDir, map, Optional.empty());
                }

                @Override
                public Optional<NotebookCluster> notebooks(Backend opened) {
                    // The cluster's DNS name of the Service resolves to the test's Jupyter, as the pod's would.
                    return ((ServerBackend) opened).notebooks().map(o -> new KubernetesNotebookCluster(o, Optional.of(CLUSTER_URL), uri -> {
                        resolved.put(uri.getHost(), uri);
                        return URI.create("http://127.0.0.1:" + jupyterPort);
                    }));
                }
            };
            try (var server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0",
                    "CAPSTAN_GRPC_PORT", "0", "CAPSTAN_RESYNC_SECONDS", "2")), io.capstan.security.SecuritySettings.defaults(), Optional.of(workloads))) {
                var cli = Cli.against(server.url()).env("CAPSTAN_HOME", home.toString());
                var file = Files.writeString(home.resolve("lab.yaml"), NOTEBOOK);
                var applied = cli.run("apply", "-f", file.toString());
                assertThat(applied.exitCode()).as(applied.err()).isZero();

                // The StatefulSet and Service as upstream's controller makes them, named after the namespace mapped onto NS.
                Supplier<StatefulSet> set = () -> kubectl.apps().statefulSets().inNamespace(NS).withName("team-a-lab").get();
                eventually(() -> set.get() != null, true);
                var statefulSet = set.get();
                assertThat(statefulSet.getSpec().getReplicas()).isEqualTo(1);
                assertThat(statefulSet.getSpec().getSelector().getMatchLabels()).containsEntry("statefulset", "team-a-lab");
                var container = statefulSet.getSpec().getTemplate().getSpec().getContainers().getFirst();
                assertThat(container.getImage()).isEqualTo("kubeflownotebookswg/jupyter-scipy:v1.8.0");
                assertThat(container.getEnv()).anySatisfy(e -> {
                    assertThat(e.getName()).isEqualTo("NB_PREFIX");
                    assertThat(e.getValue()).isEqualTo("/notebook/team-a/lab");
                });
                assertThat(container.getPorts().getFirst().getContainerPort()).isEqualTo(8888);
                assertThat(statefulSet.getSpec().getTemplate().getSpec().getVolumes().getFirst().getPersistentVolumeClaim().getClaimName())
                        .isEqualTo("lab-workspace");
                assertThat(statefulSet.getMetadata().getLabels()).containsEntry("capstan.io/owner-kind", "Notebook")
                        .containsEntry("capstan.io/owner-namespace", "team-a").containsEntry("app.kubernetes.io/managed-by", "capstan");
                var service = kubectl.services().inNamespace(NS).withName("team-a-lab").get();
                assertThat(service).isNotNull();
                assertThat(service.getSpec().getPorts().getFirst().getPort()).isEqualTo(80);
                assertThat(service.getSpec().getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(8888);
                assertThat(service.getSpec().getSelector()).containsEntry("statefulset", "team-a-lab");

                // In-notebook access: CAPSTAN_SERVER is the server's in-cluster URL, and the token is a file from a
                // Secret (the kubelet refreshes it as the token rotates), which KFP's SDK also reads.
                var env = new java.util.HashMap<String, String>();
                container.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
                assertThat(env).containsEntry("CAPSTAN_SERVER", CLUSTER_URL.toString()).containsEntry("CAPSTAN_NAMESPACE", "team-a")
                        .containsEntry("CAPSTAN_NOTEBOOK", "lab").containsEntry("CAPSTAN_TOKEN_FILE", "/var/run/secrets/capstan.io/token")
                        .containsEntry("KF_PIPELINES_SA_TOKEN_PATH", "/var/run/secrets/capstan.io/token").doesNotContainKey("CAPSTAN_TOKEN");
                assertThat(container.getVolumeMounts()).anySatisfy(m -> {
                    assertThat(m.getMountPath()).isEqualTo("/var/run/secrets/capstan.io");
                    assertThat(m.getReadOnly()).isTrue();
                });
                assertThat(statefulSet.getSpec().getTemplate().getSpec().getVolumes())
                        .anySatisfy(v -> assertThat(v.getSecret() == null ? null : v.getSecret().getSecretName()).isEqualTo("team-a-lab-capstan"));
                var secret = kubectl.secrets().inNamespace(NS).withName("team-a-lab-capstan").get();
                assertThat(secret.getMetadata().getLabels()).containsEntry("capstan.io/owner-kind", "Notebook");
                var token = new String(java.util.Base64.getDecoder().decode(secret.getData().get("token")), java.nio.charset.StandardCharsets.UTF_8);
                // The file as the pod sees it: the CLI in a cell reads it, and works in its namespace only.
                var tokenFile = Files.writeString(Files.createDirectories(home.resolve("pod-secret")).resolve("token"), token);
                var inNotebook = Cli.against(server.url()).env("CAPSTAN_HOME", Files.createDirectories(home.resolve("pod-home-dir")).toString())
                        .env("CAPSTAN_TOKEN_FILE", tokenFile.toString());
                var own = inNotebook.run("get", "notebooks", "-n", "team-a");
                assertThat(own.exitCode()).as(own.err()).isZero();
                assertThat(own.out()).contains("lab");
                var other = inNotebook.run("get", "notebooks", "-n", "team-b");
                assertThat(other.exitCode()).as(other.out()).isNotZero();
                assertThat(other.err()).contains("may not read namespace 'team-b'");
                eventually(() -> condition(cli, "CapstanAccess"), "True");

                // No ready replica yet: Pending, and the proxy says so.
                eventually(() -> phase(cli), "Pending");
                assertThat(proxied(server, "api/kernels").statusCode()).isEqualTo(503);

                // The pod comes up: the test's Jupyter plays it, and the StatefulSet reports a ready replica.
                jupyter = startJupyter(jupyterPort);
                kubelet.setReadyReplicas("team-a-lab", 1);
                eventually(() -> phase(cli), "Running");
                assertThat(resolved).containsKey("team-a-lab." + NS + ".svc");
                var kernels = proxied(server, "api/kernels");
                assertThat(kernels.statusCode()).as(kernels.body()).isEqualTo(200);
                assertThat(Json.json().readTree(kernels.body()).isArray()).isTrue();
                // The server takes no Jupyter token there (upstream's images start with token ''), so Jupyter's own XSRF
                // check guards its POSTs: without the _xsrf cookie and header, refused; with the pair a page holds, accepted.
                var refused = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}", Map.of());
                assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
                assertThat(refused.body()).contains("_xsrf");
                var page = send(server, "GET", "tree", null, Map.of());
                assertThat(page.statusCode()).isEqualTo(200);
                var xsrf = page.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("_xsrf=")).findFirst().orElseThrow();
                var value = xsrf.substring("_xsrf=".length(), xsrf.indexOf(';') < 0 ? xsrf.length() : xsrf.indexOf(';'));
                var started = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}", Map.of("Cookie", "_xsrf=" + value, "X-XSRFToken", value));
                assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
                assertThat(proxied(server, "api/kernels").body()).contains(Json.json().readTree(started.body()).path("id").asText());

                // Stop: the annotation scales the StatefulSet to 0, as upstream's controller does; start scales it back.
                var stop = cli.run("notebooks", "stop", "lab", "-n", "team-a");
                assertThat(stop.exitCode()).as(stop.err()).isZero();
                eventually(() -> set.get().getSpec().getReplicas(), 0);
                kubelet.setReadyReplicas("team-a-lab", 0);
                eventually(() -> phase(cli), "Stopped");
                var start = cli.run("notebooks", "start", "lab", "-n", "team-a");
                assertThat(start.exitCode()).as(start.err()).isZero();
                eventually(() -> set.get().getSpec().getReplicas(), 1);
                kubelet.setReadyReplicas("team-a-lab", 1);
                eventually(() -> phase(cli), "Running");

                // Deleting the Notebook deletes its StatefulSet and Service.
                var deleted = cli.run("delete", "notebook", "lab", "-n", "team-a");
                assertThat(deleted.exitCode()).as(deleted.err()).isZero();
                eventually(() -> set.get() == null && kubectl.services().inNamespace(NS).withName("team-a-lab").get() == null
                        && kubectl.secrets().inNamespace(NS).withName("team-a-lab-capstan").get() == null, true);
            }
        } finally {
            if (jupyter != null) {
                jupyter.descendants().forEach(ProcessHandle::destroyForcibly);
                jupyter.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            cluster.destroy();
        }
    }

    private Process startJupyter(int port) throws IOException {
        var workspace = Files.createDirectories(home.resolve("pod-home"));
        var pb = new ProcessBuilder("/usr/bin/python3", "-m", "notebook", "--NotebookApp.base_url=/notebook/team-a/lab/",
                "--NotebookApp.ip=127.0.0.1", "--NotebookApp.port=" + port, "--NotebookApp.port_retries=0", "--NotebookApp.token=",
                "--NotebookApp.password=", "--NotebookApp.open_browser=False", "--NotebookApp.allow_root=True",
                "--NotebookApp.notebook_dir=" + workspace);
        pb.environment().put("JUPYTER_RUNTIME_DIR", Files.createDirectories(home.resolve("pod-runtime")).toString());
        pb.redirectErrorStream(true).redirectOutput(home.resolve("jupyter.log").toFile());
        return pb.start();
    }

    private static String condition(Cli cli, String type) {
        var run = cli.run("get", "notebooks", "lab", "-n", "team-a", "-o", "json");
        try {
            if (run.exitCode() != 0) return "";
            for (var c : Json.json().readTree(run.out()).path("status").path("conditions")) {
                if (type.equals(c.path("type").asText())) return c.path("status").asText();
            }
            return "";
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String phase(Cli cli) {
        var run = cli.run("get", "notebooks", "lab", "-n", "team-a", "-o", "json");
        try {
            return run.exitCode() == 0 ? Json.json().readTree(run.out()).path("status").path("phase").asText("") : "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static HttpResponse<String> proxied(CapstanServer server, String path) throws Exception {
        return send(server, "GET", path, null, Map.of());
    }

    private static HttpResponse<String> send(CapstanServer server, String method, String path, String body, Map<String, String> headers)
            throws Exception {
        var builder = HttpRequest.newBuilder(URI.create(server.url() + "/notebook/team-a/lab/" + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(server.config().home()).orElseThrow())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) builder.header("Content-Type", "application/json");
        headers.forEach(builder::header);
        return HTTP.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static <T> void eventually(Supplier<T> actual, T expected) {
        Eventually.eventually(Duration.ofSeconds(60), actual, expected);
    }
}
