package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.kubernetes.testing.Eventually;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.capstan.server.CapstanServer;
import io.capstan.serving.TestModels;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * InferenceServices through {@code capstan server --backend kubernetes}, against fabric8's mock API server in CRUD
 * mode where the test plays the Deployment controller: each revision's predictor becomes a Deployment, Service and
 * HPA; the test marks the Deployment available and points its Service at a real {@code capstan model-server} process
 * on 127.0.0.1, and Capstan's router sends inference requests there, split between revisions by canary weight.
 */
class KubernetesServingModeTest {
    static final String NS = "capstan-serve";
    static final String OWNER = "capstan.io/owner-name";
    static final float[] ROW = {5.1f, 3.5f, 1.4f, 0.2f};

    @TempDir
    static Path home;
    static KubernetesMockServer cluster;
    static KubernetesClient kubectl;
    static Kubelet kubelet;
    static CapstanServer server;
    /** Where each predictor Service "is": the port of a model-server process on 127.0.0.1. */
    static final Map<String, Integer> servicePorts = new ConcurrentHashMap<>();
    static final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void start() {
        cluster = MockCluster.start();
        kubectl = cluster.createClient();
        kubelet = new Kubelet(cluster, kubectl, NS);
        server = startServer();
    }

    static CapstanServer startServer() {
        return KubernetesModeServer.start(home, cluster, NS, backend -> backend.placingPredictors("registry.local/capstan:test", service -> {
            var port = servicePorts.get(service.getMetadata().getName());
            if (port == null) throw new IllegalStateException("the test has not placed " + service.getMetadata().getName());
            return new InetSocketAddress("127.0.0.1", port);
        }));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        processes.forEach(Process::destroy);
        kubectl.close();
        cluster.destroy();
    }

    static Cli admin() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", home.toString());
    }

    @Test
    void revisionsRunAsDeploymentsThatCapstansRouterSplitsTrafficBetween() throws Exception {
        var first = Files.writeString(home.resolve("iris-1.yaml"), isvc("s3://models/iris/v1", ""));
        var applied = admin().run("apply", "-f", first.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();

        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withName("team-a-iris-predictor-1").get() != null, true);
        var deployment = kubectl.apps().deployments().inNamespace(NS).withName("team-a-iris-predictor-1").get();
        var service = kubectl.services().inNamespace(NS).withName("team-a-iris-predictor-1").get();
        var hpa = kubectl.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NS).withName("team-a-iris-predictor-1").get();
        assertThat(deployment.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "capstan")
                .containsEntry("capstan.io/owner-kind", "InferenceService").containsEntry(OWNER, "team-a-iris")
                .containsEntry("serving.capstan.io/revision", "1").containsEntry("component", "predictor");
        var selector = deployment.getSpec().getSelector().getMatchLabels();
        assertThat(selector).containsEntry("app", "isvc.team-a-iris-predictor-1").containsEntry("serving.capstan.io/revision", "1");
        assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(selector);
        assertThat(service.getSpec().getSelector()).isEqualTo(selector);
        assertThat(service.getSpec().getPorts().getFirst().getPort()).isEqualTo(80);
        assertThat(service.getSpec().getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(8080);
        var container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo("registry.local/capstan:test");
        assertThat(container.getArgs()).containsExactly("model-server", "--model-name=iris", "--model-dir=/mnt/models", "--port=8080", "--format=onnx");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/v2/health/ready");
        assertThat(container.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(8080);
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/v2/health/live");
        assertThat(deployment.getSpec().getTemplate().getSpec().getInitContainers().getFirst().getArgs()).containsExactly("s3://models/iris/v1", "/mnt/models");
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
        assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(5);
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("team-a-iris-predictor-1");
        assertThat(hpa.getSpec().getMetrics().getFirst().getResource().getName()).isEqualTo("memory");
        assertThat(hpa.getSpec().getMetrics().getFirst().getResource().getTarget().getAverageUtilization()).isEqualTo(70);

        // Until its Deployment has an available replica, the revision loads and the model does not answer.
        Thread.sleep(1500);
        assertThat(status().path("phase").asText()).isNotEqualTo("Ready");
        assertThat(infer().statusCode()).isEqualTo(503);

        servicePorts.put("team-a-iris-predictor-1", modelServer("v1"));
        kubelet.deploymentAvailable("team-a-iris-predictor-1", 2);
        eventually(() -> status().path("phase").asText(), "Ready");
        var answer = infer();
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertIris(answer.body(), "1");

        // A second revision with a canary share is a second Deployment; the router sends each its share.
        var second = Files.writeString(home.resolve("iris-2.yaml"), isvc("s3://models/iris/v2", "    canaryTrafficPercent: 50\n"));
        applied = admin().run("apply", "-f", second.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withName("team-a-iris-predictor-2").get() != null, true);
        assertThat(kubectl.apps().deployments().inNamespace(NS).withName("team-a-iris-predictor-2").get().getSpec().getTemplate().getSpec()
                .getInitContainers().getFirst().getArgs()).containsExactly("s3://models/iris/v2", "/mnt/models");
        servicePorts.put("team-a-iris-predictor-2", modelServer("v2"));
        kubelet.deploymentAvailable("team-a-iris-predictor-2", 2);
        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withLabel(OWNER, "team-a-iris").list().getItems().size(), 2);
        eventually(() -> versionsAnswering(40).size(), 2);
        assertThat(owned()).hasSize(6);

        // A restarted server adopts what is there by name: no new objects, the same Deployments, traffic as before.
        var uids = owned().stream().map(o -> o.getMetadata().getUid()).collect(java.util.stream.Collectors.toSet());
        server.close();
        server = startServer();
        eventually(() -> versionsAnswering(40).size(), 2);
        assertThat(owned().stream().map(o -> o.getMetadata().getUid()).collect(java.util.stream.Collectors.toSet())).isEqualTo(uids);

        // Deleting the InferenceService deletes every revision's Deployment, Service and HPA.
        var deleted = admin().run("delete", "inferenceservice", "iris", "-n", "team-a");
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        eventually(() -> owned().size(), 0);
    }

    @Test
    void aCustomContainerRunsAsGiven() throws Exception {
        var file = Files.writeString(home.resolve("custom.yaml"), """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: custom, namespace: team-b}
                spec:
                  predictor:
                    containers:
                    - name: kserve-container
                      image: my/server:1
                      args: [--model_name=custom, --port=9000]
                      ports: [{containerPort: 9000}]
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withName("team-b-custom-predictor-1").get() != null, true);
        var deployment = kubectl.apps().deployments().inNamespace(NS).withName("team-b-custom-predictor-1").get();
        var container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo("my/server:1");
        assertThat(container.getArgs()).containsExactly("--model_name=custom", "--port=9000");
        assertThat(deployment.getSpec().getTemplate().getSpec().getInitContainers()).isNullOrEmpty();
        var service = kubectl.services().inNamespace(NS).withName("team-b-custom-predictor-1").get();
        assertThat(service.getSpec().getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(9000);
        assertThat(admin().run("delete", "inferenceservice", "custom", "-n", "team-b").exitCode()).isZero();
        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withLabel(OWNER, "team-b-custom").list().getItems().isEmpty(), true);
    }

    @Test
    void whatAnHpaCannotDoIsRefusedWith400NamingTheField() throws Exception {
        var refused = Map.of(
                "    scaleMetric: concurrency\n", "spec.predictor.scaleMetric",
                "    minReplicas: 3\n    maxReplicas: 2\n", "spec.predictor.maxReplicas",
                "    minReplicas: -1\n", "spec.predictor.minReplicas",
                "    maxReplicas: many\n", "spec.predictor.maxReplicas");
        var token = Files.readString(home.resolve("token")).trim();
        var http = HttpClient.newHttpClient();
        for (var e : refused.entrySet()) {
            var doc = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: bad, namespace: team-c}\nspec:\n  predictor:\n"
                    + e.getKey() + "    model: {modelFormat: {name: onnx}, storageUri: s3://models/iris/v1}\n";
            var response = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/capstan/v1/apply"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(doc)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(e.getKey() + response.body()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
            assertThat(response.body()).as(e.getKey()).contains(e.getValue());
        }
        var local = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: bad, namespace: team-c}\nspec:\n  predictor:\n"
                + "    model: {modelFormat: {name: onnx}, storageUri: /home/me/model.onnx}\n";
        var response = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/capstan/v1/apply"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/yaml")
                .POST(HttpRequest.BodyPublishers.ofString(local)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.body()).contains("spec.predictor.model.storageUri").contains("pod cannot read");
        // Nothing was stored, and nothing reached the cluster.
        assertThat(admin().run("get", "inferenceservice", "bad", "-n", "team-c").exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(kubectl.apps().deployments().inNamespace(NS).withLabel(OWNER, "team-c-bad").list().getItems()).isEmpty();
    }

    @Test
    void aModelRegistryUriReachesThePodAsTheUriItResolvesTo() throws Exception {
        var registered = admin().run("models", "register", "s3://models/flower/v3.onnx", "--name", "flower", "--version", "v3", "--format", "onnx",
                "-n", "team-d");
        assertThat(registered.exitCode()).as(registered.err()).isZero();
        var file = Files.writeString(home.resolve("flower.yaml"), """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: flower, namespace: team-d}
                spec:
                  predictor:
                    model: {modelFormat: {name: onnx}, storageUri: "model-registry://flower/v3"}
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withName("team-d-flower-predictor-1").get() != null, true);
        assertThat(kubectl.apps().deployments().inNamespace(NS).withName("team-d-flower-predictor-1").get().getSpec().getTemplate().getSpec()
                .getInitContainers().getFirst().getArgs()).containsExactly("s3://models/flower/v3.onnx", "/mnt/models");
        assertThat(admin().run("delete", "inferenceservice", "flower", "-n", "team-d").exitCode()).isZero();
        eventually(() -> kubectl.apps().deployments().inNamespace(NS).withLabel(OWNER, "team-d-flower").list().getItems().isEmpty(), true);
    }

    @Test
    void modelServerRefusesAFormatItDoesNotServeAndAMissingModel() throws Exception {
        var dir = home.resolve("models-refused");
        TestModels.irisOnnx(dir);
        var sklearn = new Cli().run("model-server", "--model-name", "iris", "--model-dir", dir.toString(), "--format", "sklearn", "--port", "0");
        assertThat(sklearn.exitCode()).isNotZero();
        assertThat(sklearn.err()).contains("no built-in runtime serves format 'sklearn'");
        var missing = new Cli().run("model-server", "--model-name", "iris", "--model-dir", home.resolve("nowhere").toString(), "--format", "onnx");
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(missing.err()).contains("--model-dir").contains("no such file or folder");
    }

    static String isvc(String storageUri, String more) {
        return """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris, namespace: team-a}
                spec:
                  predictor:
                    minReplicas: 2
                    maxReplicas: 5
                    scaleMetric: memory
                    scaleTarget: 70
                """ + more + "    model: {modelFormat: {name: onnx}, storageUri: " + storageUri + "}\n";
    }

    /** Every Deployment, Service and HPA of InferenceService team-a/iris. */
    static List<HasMetadata> owned() {
        var all = new ArrayList<HasMetadata>();
        all.addAll(kubectl.apps().deployments().inNamespace(NS).withLabel(OWNER, "team-a-iris").list().getItems());
        all.addAll(kubectl.services().inNamespace(NS).withLabel(OWNER, "team-a-iris").list().getItems());
        all.addAll(kubectl.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NS).withLabel(OWNER, "team-a-iris").list().getItems());
        return all;
    }

    /** Starts {@code capstan model-server} on the iris model in a child JVM, as the predictor pod would, and gives its port. */
    static int modelServer(String version) throws Exception {
        var dir = home.resolve("models-" + version);
        TestModels.irisOnnx(dir);
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.capstan.cli.Capstan", "model-server",
                "--model-name", "iris", "--model-dir", dir.toString(), "--format", "onnx", "--host", "127.0.0.1", "--port", "0")
                .redirectErrorStream(true).start();
        processes.add(process);
        var reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        var port = Pattern.compile("Serving model iris \\(onnx\\) on 127.0.0.1 port (\\d+)");
        var seen = new StringBuilder();
        for (String line; (line = reader.readLine()) != null; ) {
            seen.append(line).append('\n');
            var m = port.matcher(line);
            if (m.find()) {
                Thread.ofVirtual().start(() -> reader.lines().forEach(l -> { }));
                return Integer.parseInt(m.group(1));
            }
        }
        throw new AssertionError("capstan model-server exited: " + seen);
    }

    static HttpResponse<String> infer() {
        var body = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[5.1,3.5,1.4,0.2]}]}";
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/serving/team-a/v2/models/iris/infer"))
                    .header("Authorization", "Bearer " + Files.readString(home.resolve("token")).trim()).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The revisions that answered {@code n} requests, each answer checked. */
    static java.util.Set<String> versionsAnswering(int n) {
        var versions = new HashSet<String>();
        for (int i = 0; i < n; i++) {
            var answer = infer();
            if (answer.statusCode() != 200) return versions;
            try {
                versions.add(assertIris(answer.body(), null));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return versions;
    }

    static String assertIris(String body, String version) throws Exception {
        var node = Json.json().readTree(body);
        if (version != null) assertThat(node.path("model_version").asText()).isEqualTo(version);
        JsonNode probabilities = null;
        for (var output : node.path("outputs")) if (output.path("name").asText().equals("probabilities")) probabilities = output;
        assertThat(probabilities).as(body).isNotNull();
        var expected = TestModels.irisProbabilities(ROW);
        for (int i = 0; i < 3; i++) assertThat(probabilities.path("data").get(i).floatValue()).isCloseTo(expected[i], within(1e-4f));
        return node.path("model_version").asText();
    }

    static JsonNode status() {
        return KubernetesModeServer.resource(admin(), "inferenceservice", "team-a", "iris").path("status");
    }

    static <T> void eventually(Supplier<T> actual, T expected) {
        Eventually.eventually(Duration.ofSeconds(60), actual, expected);
    }
}
