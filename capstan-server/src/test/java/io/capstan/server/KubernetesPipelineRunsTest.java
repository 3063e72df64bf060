package io.capstan.server;

import static io.capstan.kubernetes.testing.Eventually.eventually;
import static io.capstan.kubernetes.testing.Kubelet.env;
import static io.capstan.kubernetes.testing.Kubelet.running;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.kubernetes.ServerBackend;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.capstan.pipelines.run.StepLauncher;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * PipelineRuns in Kubernetes mode ({@code capstan server --backend kubernetes} with S3), against fabric8's mock API
 * server in CRUD mode. The test plays the kubelet: for each step's pod it runs what the pod's containers run, with
 * the pod's own folder in place of its emptyDir (never the server's): the init container's {@code step-io pull}, the
 * step's command through the pod's {@code sh} wrapper, the sidecar's {@code step-io push --wait}; then it moves the
 * pod to Succeeded or Failed and serves the step's output as its log. So a step's outputs reach the server only
 * through the real S3 server, as from a real pod.
 */
class KubernetesPipelineRunsTest {
    static final String NS = "capstan-pipes";
    static final String PATH = "/apis/capstan/v1/namespaces/default/pipelineruns/";

    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    static Path home;
    static KubernetesMockServer cluster;
    static KubernetesClient kubectl;
    static Kubelet kubelet;
    static CapstanConfig.S3Settings s3;
    static TestServer server;

    @BeforeAll
    static void start() {
        cluster = MockCluster.start();
        kubectl = cluster.createClient();
        kubelet = kubeletIn(NS);
        s3 = S3.newBucketSettings();
        server = serverAt(home.resolve("server"), NS);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        kubectl.close();
        cluster.destroy();
    }

    static TestServer serverAt(Path dir, String clusterNamespace) {
        var env = new HashMap<String, String>(s3Env());
        env.putAll(Map.of("CAPSTAN_HOME", dir.toString(), "CAPSTAN_PORT", "0", "CAPSTAN_GRPC_PORT", "0", "CAPSTAN_RESYNC_SECONDS", "2"));
        var map = ServerBackend.NamespaceMap.parse("*=" + clusterNamespace);
        return new TestServer(CapstanConfig.fromEnvironment(env), d -> ServerBackend.open(cluster.createClient(), d, map, Optional.empty()));
    }

    /** What the Secret capstan-s3 gives a step's pod ({@code envFrom}). */
    static Map<String, String> s3Env() {
        return Map.of("CAPSTAN_S3_BUCKET", s3.bucket(), "CAPSTAN_S3_ENDPOINT", s3.endpoint(), "CAPSTAN_S3_ACCESS_KEY", s3.accessKey(),
                "CAPSTAN_S3_SECRET_KEY", s3.secretKey());
    }

    /** produce writes a parameter and a Dataset; consume, after it, reads both and writes what it saw. */
    static final String CHAIN = """
            pipelineInfo: {name: chain}
            schemaVersion: 2.1.0
            sdkVersion: kfp-2.13.0
            root:
              inputDefinitions:
                parameters:
                  message: {parameterType: STRING, defaultValue: hello}
              dag:
                tasks:
                  produce:
                    componentRef: {name: comp-produce}
                    taskInfo: {name: produce}
                    inputs:
                      parameters:
                        text: {componentInputParameter: message}
                  consume:
                    componentRef: {name: comp-consume}
                    taskInfo: {name: consume}
                    dependentTasks: [produce]
                    inputs:
                      parameters:
                        line: {taskOutputParameter: {producerTask: produce, outputParameterKey: Output}}
                      artifacts:
                        data: {taskOutputArtifact: {producerTask: produce, outputArtifactKey: data}}
            components:
              comp-produce:
                executorLabel: exec-produce
                inputDefinitions:
                  parameters:
                    text: {parameterType: STRING}
                outputDefinitions:
                  parameters:
                    Output: {parameterType: STRING}
                  artifacts:
                    data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
              comp-consume:
                executorLabel: exec-consume
                inputDefinitions:
                  parameters:
                    line: {parameterType: STRING}
                  artifacts:
                    data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
                outputDefinitions:
                  parameters:
                    seen: {parameterType: STRING}
            deploymentSpec:
              executors:
                exec-produce:
                  container:
                    image: busybox:1.36
                    command: [sh, -c]
                    args:
                      - printf '%s' "$0" > "$1"; printf 'rows:3' > "$2"; echo produced "$0"
                      - "{{$.inputs.parameters['text']}}"
                      - "{{$.outputs.parameters['Output'].output_file}}"
                      - "{{$.outputs.artifacts['data'].path}}"
                exec-consume:
                  container:
                    image: busybox:1.36
                    command: [sh, -c]
                    args:
                      - printf '%s+%s' "$(cat "$0")" "$1" > "$2"; echo consumed "$1"
                      - "{{$.inputs.artifacts['data'].path}}"
                      - "{{$.inputs.parameters['line']}}"
                      - "{{$.outputs.parameters['seen'].output_file}}"
            """;

    static String run(String name, String ir) {
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", name);
        body.putObject("spec").put("pipelineSpec", ir);
        return body.toString();
    }

    static TestServer.Reply apply(TestServer s, String json) {
        return s.send("POST", "/apis/capstan/v1/apply", json, "application/json");
    }

    @Test
    void aTwoStepPipelineRunsAsOnePodPerStepPassingAParameterAndAnArtifactThroughS3() throws Exception {
        var applied = apply(server, run("chain", CHAIN));
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);

        var produce = awaitPod("chain", "produce");
        // Namespace default is mapped onto the cluster's capstan-pipes, so the name starts with it.
        assertThat(produce.getMetadata().getName()).isEqualTo("default-chain-produce-1");
        assertThat(produce.getMetadata().getLabels()).containsEntry("capstan.io/run", "chain").containsEntry("capstan.io/task", "produce")
                .containsEntry("capstan.io/attempt", "1").containsEntry("capstan.io/owner-kind", "PipelineRun")
                .containsEntry("app.kubernetes.io/managed-by", "capstan");
        var main = container(produce, "main");
        assertThat(main.getImage()).isEqualTo("busybox:1.36");
        // The command as the engine resolved it, behind the wrapper that leaves its exit code for the sidecar.
        assertThat(main.getCommand().subList(0, 2)).containsExactly("sh", "-c");
        assertThat(main.getCommand()).contains("hello");
        assertThat(produce.getSpec().getInitContainers()).extracting(Container::getName).containsExactly("capstan-pull");
        assertThat(produce.getSpec().getInitContainers().getFirst().getImage()).isEqualTo("capstan:latest");
        assertThat(produce.getSpec().getContainers()).extracting(Container::getName).containsExactly("main", "capstan-push");
        // Only one step runs: consume waits for produce.
        assertThat(pods("chain", "consume")).isEmpty();

        var produced = kubelet(produce);
        assertThat(produced).isZero();

        var consume = awaitPod("chain", "consume");
        // The parameter produce wrote came back through S3 and into consume's command.
        assertThat(container(consume, "main").getCommand()).contains("hello");
        assertThat(kubelet(consume)).isZero();

        var done = server.await(PATH + "chain", r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(60));
        var status = done.path("status");
        assertThat(status.path("phase").asText()).as(status.toString()).isEqualTo("Succeeded");
        var tasks = status.path("tasks");
        assertThat(tasks.path("root/consume").path("outputs").path("parameters").path("seen").asText()).isEqualTo("rows:3+hello");
        var data = tasks.path("root/produce").path("outputs").path("artifacts").path("data").get(0).path("uri").asText();
        assertThat(data).startsWith("s3://" + s3.bucket() + "/pipelines/");
        var key = data.substring(("s3://" + s3.bucket() + "/").length());
        assertThat(S3.client().getObjectAsBytes(b -> b.bucket(s3.bucket()).key(key)).asUtf8String()).isEqualTo("rows:3");
        // One pod per step: nothing was launched twice.
        assertThat(pods("chain", "produce")).hasSize(1);
        assertThat(pods("chain", "consume")).hasSize(1);

        // The steps' logs were copied into Capstan's log store and outlive the pods.
        for (var t : List.of("produce", "consume")) kubectl.pods().inNamespace(NS).withName("default-chain-" + t + "-1").withGracePeriod(0).delete();
        eventually(() -> pods("chain", "produce").isEmpty() && pods("chain", "consume").isEmpty(), true);
        var logs = server.get("/apis/v2beta1/runs/chain/logs");
        assertThat(logs.status()).as(logs.body()).isEqualTo(200);
        assertThat(logs.body()).contains("==> root/produce <==\nproduced hello").contains("==> root/consume <==\nconsumed hello");
    }

    @Test
    void aFailedStepFailsTheRunNamingTheStep() throws Exception {
        var ir = CHAIN.replace("printf '%s' \"$0\" > \"$1\"; printf 'rows:3' > \"$2\"; echo produced \"$0\"", "echo no disk left; exit 3")
                .replace("        taskInfo: {name: produce}\n", "        taskInfo: {name: produce}\n        retryPolicy: {maxRetryCount: 1}\n");
        var applied = apply(server, run("broken", ir));
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);
        var produce = awaitPod("broken", "produce");
        assertThat(kubelet(produce)).isEqualTo(3);
        // Capstan retries the step itself: a new pod for its second attempt, labelled so.
        eventually(() -> pods("broken", "produce").size(), 2);
        var second = pods("broken", "produce").stream().filter(p -> !p.getMetadata().getName().equals(produce.getMetadata().getName())).findFirst().orElseThrow();
        assertThat(second.getMetadata().getName()).isEqualTo("default-broken-produce-2");
        assertThat(second.getMetadata().getLabels()).containsEntry("capstan.io/attempt", "2");
        assertThat(kubelet(second)).isEqualTo(3);
        var done = server.await(PATH + "broken", r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(60));
        var status = done.path("status");
        assertThat(status.path("phase").asText()).isEqualTo("Failed");
        assertThat(status.path("message").asText()).as(status.toString()).contains("produce");
        assertThat(status.path("tasks").path("root/produce").path("state").asText()).isEqualTo("FAILED");
        assertThat(status.path("tasks").path("root/produce").path("message").asText()).contains("3");
        // The step after it never got a pod.
        assertThat(pods("broken", "consume")).isEmpty();
    }

    @Test
    void terminatingARunDeletesItsStepsPods() throws Exception {
        var applied = apply(server, run("stopme", CHAIN));
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);
        var produce = awaitPod("stopme", "produce");
        kubelet.serveLogs(produce.getMetadata().getName(), "working");
        kubelet.setPod(produce.getMetadata().getName(), running());
        server.await(PATH + "stopme", r -> r.path("status").path("tasks").path("root/produce").path("startTime").isTextual(), Duration.ofSeconds(30));
        var terminated = server.send("POST", "/apis/v2beta1/runs/stopme:terminate", "{}", "application/json");
        assertThat(terminated.status()).as(terminated.body()).isEqualTo(200);
        eventually(() -> pods("stopme", "produce").isEmpty(), true);
        var done = server.await(PATH + "stopme", r -> r.path("status").path("phase").asText().equals("Cancelled"), Duration.ofSeconds(30));
        assertThat(done.path("status").path("tasks").path("root/produce").path("state").asText()).isEqualTo("CANCELLED");
        assertThat(pods("stopme", "consume")).isEmpty();
    }

    @Test
    void aRestartedServerReadoptsARunningStepsPodByLabelAndFinishesTheRun() throws Exception {
        var ns = "capstan-restart";
        var dir = home.resolve("restarted");
        var first = serverAt(dir, ns);
        TestServer second = null;
        try {
            var applied = apply(first, run("survivor", CHAIN));
            assertThat(applied.status()).as(applied.body()).isEqualTo(200);
            var produce = awaitPod(ns, "survivor", "produce");
            kubeletIn(ns).setPod(produce.getMetadata().getName(), running());
            first.await(PATH + "survivor", r -> r.path("status").path("tasks").path("root/produce").path("startTime").isTextual(), Duration.ofSeconds(30));
            first.close();
            first = null;

            // The pod goes on while no server is up, and finishes.
            assertThat(kubelet(ns, produce)).isZero();
            second = serverAt(dir, ns);
            var consume = awaitPod(ns, "survivor", "consume");
            assertThat(kubelet(ns, consume)).isZero();
            var done = second.await(PATH + "survivor", r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(60));
            assertThat(done.path("status").path("phase").asText()).as(done.path("status").toString()).isEqualTo("Succeeded");
            assertThat(done.path("status").path("tasks").path("root/consume").path("outputs").path("parameters").path("seen").asText()).isEqualTo("rows:3+hello");
            // The new server adopted produce's pod: it made no second one.
            assertThat(pods(ns, "survivor", "produce")).hasSize(1);
        } finally {
            if (first != null) first.close();
            if (second != null) second.close();
        }
    }

    @Test
    void whatAPodCannotRunIsRefusedWith400NamingTheField() {
        // No image: the kind's own validator names the field.
        var noImage = apply(server, run("refused", CHAIN.replace("exec-consume:\n      container:\n        image: busybox:1.36",
                "exec-consume:\n      container:\n        image: ''")));
        assertThat(noImage.status()).as(noImage.body()).isEqualTo(400);
        assertThat(noImage.contentType()).startsWith("application/problem+json");
        assertThat(noImage.body()).contains("spec.pipelineSpec.deploymentSpec.executors.exec-consume.container.image");
        // A built-in component runs on this server's JVM, which no pod has.
        var builtin = apply(server, run("refused", CHAIN.replace("exec-produce:\n      container:\n        image: busybox:1.36\n        command: [sh, -c]",
                "exec-produce:\n      container:\n        image: busybox:1.36\n        command: [capstan-component, train]")));
        assertThat(builtin.status()).as(builtin.body()).isEqualTo(400);
        assertThat(builtin.contentType()).startsWith("application/problem+json");
        assertThat(builtin.body()).contains("spec.pipelineSpec.deploymentSpec.executors.exec-produce.container.command").contains("Kubernetes backend");
        var local = Json.json().createObjectNode();
        try {
            local = (com.fasterxml.jackson.databind.node.ObjectNode) Json.json().readTree(run("refused", CHAIN));
        } catch (java.io.IOException ex) {
            throw new AssertionError(ex);
        }
        ((com.fasterxml.jackson.databind.node.ObjectNode) local.get("spec")).put("pipelineRoot", "/data/pipelines");
        var reply = apply(server, local.toString());
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.body()).contains("spec.pipelineRoot").contains("pods cannot see");
        // Nothing was stored, and no pod was made.
        assertThat(server.get(PATH + "refused").status()).isEqualTo(404);
        assertThat(pods("refused", "produce")).isEmpty();
    }

    @Test
    void runsMadeThroughTheKfpApiRunAsPodsAndWhatAPodCannotRunFailsThemNamingTheField() throws Exception {
        var good = Json.json().createObjectNode().put("display_name", "kfp-chain");
        good.set("pipeline_spec", Json.yaml().readTree(CHAIN));
        var created = server.send("POST", "/apis/v2beta1/runs", good.toString(), "application/json");
        assertThat(created.status()).as(created.body()).isEqualTo(200);
        var id = created.json().path("run_id").asText();
        var produce = awaitPod(id, "produce");
        assertThat(kubelet(produce)).isZero();
        assertThat(kubelet(awaitPod(id, "consume"))).isZero();
        var done = server.await(PATH + id, r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(60));
        assertThat(done.path("status").path("phase").asText()).as(done.path("status").toString()).isEqualTo("Succeeded");

        // The KFP API does not apply the run, so what a pod cannot run is found when it starts, and fails it naming the field.
        var builtin = Json.json().createObjectNode().put("display_name", "kfp-builtin");
        builtin.set("pipeline_spec", Json.yaml().readTree(CHAIN.replace("exec-produce:\n      container:\n        image: busybox:1.36\n        command: [sh, -c]",
                "exec-produce:\n      container:\n        image: busybox:1.36\n        command: [capstan-component, train]")));
        var refused = server.send("POST", "/apis/v2beta1/runs", builtin.toString(), "application/json");
        assertThat(refused.status()).as(refused.body()).isEqualTo(200);
        var refusedId = refused.json().path("run_id").asText();
        var failed = server.await(PATH + refusedId, r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(30));
        assertThat(failed.path("status").path("phase").asText()).isEqualTo("Failed");
        assertThat(failed.path("status").path("message").asText()).contains("exec-produce.container.command").contains("Kubernetes backend");
        assertThat(pods(refusedId, "produce")).isEmpty();
    }

    // ---- the kubelet, played on the mock

    static Pod awaitPod(String run, String task) {
        return awaitPod(NS, run, task);
    }

    static Pod awaitPod(String ns, String run, String task) {
        eventually(() -> pods(ns, run, task).size(), 1);
        return pods(ns, run, task).getFirst();
    }

    static List<Pod> pods(String run, String task) {
        return pods(NS, run, task);
    }

    static List<Pod> pods(String ns, String run, String task) {
        return kubectl.pods().inNamespace(ns).withLabel("capstan.io/run", run).withLabel("capstan.io/task", task).list().getItems();
    }

    static Container container(Pod pod, String name) {
        return pod.getSpec().getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
    }

    static int kubelet(Pod pod) throws Exception {
        return kubelet(NS, pod);
    }

    /**
     * Runs the pod as a kubelet would: its emptyDir is a fresh folder of the test's, mounted (by rewriting the paths
     * in commands and variables) where the pod spec mounts it; the S3 settings come from the Secret's values.
     * Returns the step's exit code, once the pod is Succeeded or Failed.
     */
    static int kubelet(String ns, Pod pod) throws Exception {
        var main = container(pod, "main");
        var mount = main.getVolumeMounts().getFirst().getMountPath();
        var emptyDir = Files.createTempDirectory(home, "pod-");
        var local = emptyDir.resolve(mount.substring(1)).toString();
        var launcherEnv = new HashMap<>(s3Env());
        var init = pod.getSpec().getInitContainers().getFirst();
        assertThat(init.getArgs()).containsExactly("step-io", "pull");
        env(init.getEnv()).forEach((k, v) -> launcherEnv.put(k, v.replace(mount, local)));
        StepLauncher.run("pull", false, launcherEnv, Clock.systemUTC());

        var command = main.getCommand().stream().map(a -> a.replace(mount, local)).toList();
        var process = new ProcessBuilder(command).redirectErrorStream(true);
        env(main.getEnv()).forEach((k, v) -> process.environment().put(k, v.replace(mount, local)));
        var started = process.start();
        var output = new String(started.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = started.waitFor();

        var push = container(pod, "capstan-push");
        assertThat(push.getArgs()).containsExactly("step-io", "push", "--wait");
        StepLauncher.run("push", true, launcherEnv, Clock.systemUTC());

        kubeletIn(ns).runPod(pod.getMetadata().getName(), exit, output.lines().toArray(String[]::new));
        return exit;
    }

    static Kubelet kubeletIn(String ns) {
        return new Kubelet(cluster, kubectl, ns);
    }

    static JsonNode json(String text) throws Exception {
        return Json.json().readTree(text);
    }
}
