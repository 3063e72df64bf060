package io.capstan.cli;

import static io.capstan.kubernetes.testing.Eventually.eventually;
import static io.capstan.kubernetes.testing.Kubelet.env;
import static io.capstan.kubernetes.testing.Kubelet.running;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.capstan.server.CapstanServer;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capstan server --backend kubernetes} end to end against fabric8's mock API server in CRUD mode, where the
 * test plays the kubelet and the Job controller: resources applied over HTTP become objects in the cluster, the
 * test runs them, the resources succeed, and their logs are read through Capstan's API after the pods are gone.
 */
class KubernetesModeTest {
    static final String NS = "capstan-jobs";

    @TempDir
    static Path home;
    static KubernetesMockServer cluster;
    static KubernetesClient kubectl;
    static Kubelet kubelet;
    static CapstanServer server;

    @BeforeAll
    static void start() {
        cluster = MockCluster.start();
        kubectl = cluster.createClient();
        kubelet = new Kubelet(cluster, kubectl, NS);
        server = KubernetesModeServer.start(home, cluster, NS, backend -> backend);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        kubectl.close();
        cluster.destroy();
    }

    static Cli admin() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", home.toString());
    }

    @Test
    void aCapstanJobRunsAsABatchJobAndItsLogsOutliveItsPod() throws Exception {
        var file = Files.writeString(home.resolve("job.yaml"), """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: hello}
                spec:
                  image: busybox:1.36
                  command: [sh, -c, "echo one; echo two"]
                  env: {GREETING: hi}
                  resources: {cpu: "0.5"}
                """);
        var applied = admin().run("apply", "-f", file.toString(), "-n", "team-a");
        assertThat(applied.exitCode()).as(applied.err()).isZero();

        // The Job's workload is a batch/v1 Job named after it (and its namespace, as that is mapped), in the mapped namespace.
        eventually(() -> kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-hello").get() != null, true);
        var job = kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-hello").get();
        var container = job.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo("busybox:1.36");
        assertThat(container.getCommand()).containsExactly("sh", "-c", "echo one; echo two");
        assertThat(env(container.getEnv())).containsEntry("GREETING", "hi").containsEntry("CAPSTAN_JOB_NAME", "hello")
                .containsEntry("CAPSTAN_JOB_NAMESPACE", "team-a");
        assertThat(container.getResources().getRequests().get("cpu").toString()).isEqualTo("500m");
        assertThat(container.getWorkingDir()).isNull();
        assertThat(job.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "capstan")
                .containsEntry("capstan.io/owner-kind", "Job").containsEntry("capstan.io/owner-name", "hello");
        assertThat(job.getSpec().getBackoffLimit()).isZero();

        var pod = jobController(job, "one", "two");
        eventually(() -> phase("jobs", "team-a", "hello"), "Succeeded");
        var status = resource("jobs", "team-a", "hello").path("status");
        assertThat(status.path("exitCode").asInt()).isZero();

        kubectl.pods().inNamespace(NS).withName(pod).withGracePeriod(0).delete();
        eventually(() -> kubectl.pods().inNamespace(NS).withName(pod).get() == null, true);
        var logs = admin().run("logs", "hello", "-n", "team-a");
        assertThat(logs.exitCode()).as(logs.err()).isZero();
        assertThat(logs.out().lines().toList()).containsExactly("one", "two");
        // A Job of the same name in another namespace mapped to the same cluster namespace does not collide.
        var other = admin().run("apply", "-f", file.toString(), "-n", "team-b");
        assertThat(other.exitCode()).as(other.err()).isZero();
        eventually(() -> kubectl.batch().v1().jobs().inNamespace(NS).withName("team-b-hello").get() != null, true);
        // Exactly one Job was made: no relaunch by another pass of the controller.
        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).list().getItems()).extracting(j -> j.getMetadata().getName()).containsOnlyOnce("team-a-hello");
    }

    @Test
    void aPyTorchJobRunsAsAGangOfPodsWithServicesThatFindTheMaster() throws Exception {
        var file = Files.writeString(home.resolve("ddp.yaml"), """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: ddp, namespace: team-a}
                spec:
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template:
                        spec:
                          containers:
                            - name: pytorch
                              image: pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
                              command: [python3, train.py]
                    Worker:
                      replicas: 2
                      template:
                        spec:
                          containers:
                            - name: pytorch
                              image: pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
                              command: [python3, train.py]
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        // team-a is mapped onto capstan-jobs, so the names carry it.
        var names = List.of("team-a-ddp-master-0", "team-a-ddp-worker-0", "team-a-ddp-worker-1");
        for (var n : names) {
            eventually(() -> kubectl.pods().inNamespace(NS).withName(n).get() != null, true);
            eventually(() -> kubectl.services().inNamespace(NS).withName(n).get() != null, true);
            assertThat(kubectl.services().inNamespace(NS).withName(n).get().getSpec().getClusterIP()).isEqualTo("None");
        }
        for (int rank = 0; rank < 3; rank++) {
            var pod = kubectl.pods().inNamespace(NS).withName(names.get(rank)).get();
            var env = env(pod.getSpec().getContainers().getFirst().getEnv());
            // Rank 0's Service, not the loopback that one machine would use.
            assertThat(env).containsEntry("MASTER_ADDR", "team-a-ddp-master-0").containsEntry("WORLD_SIZE", "3").containsEntry("RANK", Integer.toString(rank));
            assertThat(pod.getMetadata().getLabels()).containsKey("capstan.io/gang").containsEntry("capstan.io/owner-kind", "PyTorchJob");
            assertThat(pod.getSpec().getContainers().getFirst().getImage()).isEqualTo("pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime");
        }
        assertThat(kubectl.pods().inNamespace(NS).withName("team-a-ddp-master-0").get().getMetadata().getLabels())
                .containsEntry("training.kubeflow.org/replica-type", "master").containsEntry("training.kubeflow.org/job-role", "master");

        // Two ranks placed, one not: the job waits for its gang, saying why.
        kubelet.serveLogs("team-a-ddp-master-0", "epoch 1 loss 0.5", "epoch 2 loss 0.25");
        kubelet.setPod("team-a-ddp-master-0", running());
        kubelet.setPod("team-a-ddp-worker-0", running());
        Thread.sleep(1000);
        assertThat(condition(resource("pytorchjobs", "team-a", "ddp"), "Running")).isNotEqualTo("True");
        kubelet.setPod("team-a-ddp-worker-1", running());
        eventually(() -> condition(resource("pytorchjobs", "team-a", "ddp"), "Running"), "True");
        Thread.sleep(300);
        for (var n : names) kubelet.finishPod(n, 0);
        eventually(() -> condition(resource("pytorchjobs", "team-a", "ddp"), "Succeeded"), "True");

        for (var n : names) kubectl.pods().inNamespace(NS).withName(n).withGracePeriod(0).delete();
        eventually(() -> kubectl.pods().inNamespace(NS).list().getItems().stream().noneMatch(p -> names.contains(p.getMetadata().getName())), true);
        var logs = admin().run("logs", "ddp", "--rank", "0", "-n", "team-a");
        assertThat(logs.exitCode()).as(logs.err()).isZero();
        assertThat(logs.out().lines().toList()).containsExactly("epoch 1 loss 0.5", "epoch 2 loss 0.25");
    }

    @Test
    void anExperimentsTrialsRunAsJobsAndReportThroughTheirPodLogs() throws Exception {
        var file = Files.writeString(home.resolve("tune.yaml"), """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: tune, namespace: team-a}
                spec:
                  objective: {type: maximize, objectiveMetricName: accuracy}
                  algorithm: {algorithmName: grid}
                  parallelTrialCount: 3
                  maxTrialCount: 3
                  parameters:
                    - name: kernel
                      parameterType: categorical
                      feasibleSpace: {list: [linear, rbf, poly]}
                  metricsCollectorSpec: {collector: {kind: StdOut}}
                  trialTemplate:
                    primaryContainerName: training-container
                    trialParameters: [{name: kernel, reference: kernel}]
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        template:
                          spec:
                            containers:
                              - name: training-container
                                image: python:3.12
                                workingDir: /app
                                command: [python3, train.py, "--kernel=${trialParameters.kernel}"]
                            restartPolicy: Never
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        Supplier<List<Job>> trialJobs = () -> kubectl.batch().v1().jobs().inNamespace(NS).withLabel("katib.kubeflow.org/experiment", "tune").list().getItems();
        eventually(() -> trialJobs.get().size(), 3);
        var accuracy = Map.of("linear", "0.81", "rbf", "0.93", "poly", "0.87");
        var trials = new HashMap<String, String>();
        var pods = new java.util.ArrayList<String>();
        for (var job : trialJobs.get()) {
            var container = job.getSpec().getTemplate().getSpec().getContainers().getFirst();
            assertThat(container.getImage()).isEqualTo("python:3.12");
            assertThat(container.getWorkingDir()).isEqualTo("/app");
            var env = env(container.getEnv());
            // The server's trial folder and loopback observation URL mean nothing in a pod.
            assertThat(env).doesNotContainKeys("CAPSTAN_TRIAL_DIR", "CAPSTAN_OBSERVATION_URL", "CAPSTAN_TOKEN");
            var trial = job.getMetadata().getLabels().get("katib.kubeflow.org/trial");
            assertThat(env).containsEntry("KATIB_TRIAL_NAME", trial);
            assertThat(job.getMetadata().getName()).isEqualTo("team-a-" + trial);
            var kernel = container.getCommand().getLast().substring("--kernel=".length());
            trials.put(kernel, trial);
            // Katib's default StdOut filter: name=value anywhere on a line.
            pods.add(jobController(job, "epoch 1", "accuracy=0.5", "epoch 2", "accuracy=" + accuracy.get(kernel)));
        }
        assertThat(trials).containsOnlyKeys("linear", "rbf", "poly");
        eventually(() -> condition(resource("experiments", "team-a", "tune"), "Succeeded"), "True");
        var status = resource("experiments", "team-a", "tune").path("status");
        assertThat(status.path("trialsSucceeded").asInt()).as(status.toString()).isEqualTo(3);
        var best = status.path("currentOptimalTrial");
        assertThat(best.path("bestTrialName").asText()).isEqualTo(trials.get("rbf"));
        assertThat(best.path("observation").toString()).contains("0.93");
        var rbf = resource("trials", "team-a", trials.get("rbf")).path("status");
        assertThat(rbf.path("phase").asText()).isEqualTo("Succeeded");
        assertThat(rbf.path("observations").toString()).contains("0.5").contains("0.93");

        // The trial's log is read from Capstan's log store after its pod is gone.
        for (var pod : pods) kubectl.pods().inNamespace(NS).withName(pod).withGracePeriod(0).delete();
        eventually(() -> kubectl.pods().inNamespace(NS).withLabel("katib.kubeflow.org/experiment", "tune").list().getItems().isEmpty(), true);
        var log = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/capstan/v1/namespaces/team-a/trials/"
                        + trials.get("poly") + "/log")).header("Authorization", "Bearer " + Files.readString(home.resolve("token")).trim()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(log.statusCode()).as(log.body()).isEqualTo(200);
        assertThat(log.body()).contains("epoch 2").contains("accuracy=0.87");
        // One Job per trial: no relaunch.
        assertThat(trialJobs.get()).hasSize(3);
    }

    @Test
    void whatCannotRunOnKubernetesYetIsRefusedWith400NamingWhy() throws Exception {
        var refused = Map.of(
                "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: no-image}\nspec: {command: [echo, hi]}\n", "spec.image",
                "apiVersion: kubeflow.org/v1\nkind: XGBoostJob\nmetadata: {name: xgb}\nspec:\n  xgbReplicaSpecs:\n    Master:\n      replicas: 1\n"
                        + "      template: {spec: {containers: [{name: xgboost, command: [python3, t.py]}]}}\n", "containers[0].image",
                "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: custom}\nspec:\n  predictor:\n"
                        + "    model: {modelFormat: {name: onnx}, storageUri: s3://m/iris}\n  transformer:\n"
                        + "    containers: [{name: kserve-container, image: my/transformer:1}]\n", "spec.transformer",
                "apiVersion: kubeflow.org/v1\nkind: Notebook\nmetadata: {name: lab}\nspec:\n  template: {spec: {containers: [{name: lab, image: jupyter/minimal}]}}\n",
                "Notebooks cannot run",
                "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: secret-env}\nspec:\n  image: busybox\n  command: [env]\n"
                        + "  env: [{name: P, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n",
                "secret values into the pod's spec");
        var token = Files.readString(home.resolve("token")).trim();
        var http = HttpClient.newHttpClient();
        for (var e : refused.entrySet()) {
            var response = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/capstan/v1/apply"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(e.getKey())).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
            assertThat(response.body()).contains(e.getValue()).contains("Kubernetes backend");
        }
        var experiment = Files.writeString(home.resolve("file-metrics.yaml"), Files.readString(Path.of("../examples/tuning/iris-experiment.yaml"))
                .replace("kind: StdOut", "kind: File\n    source: {fileSystemPath: {path: /tmp/metrics.log, kind: File}}"));
        var refusedExperiment = admin().run("apply", "-f", experiment.toString());
        assertThat(refusedExperiment.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(refusedExperiment.err()).contains("spec.metricsCollectorSpec.collector.kind").contains("pod's log");
        // Nothing was stored, and nothing reached the cluster.
        assertThat(admin().run("get", "jobs", "no-image").exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).withName("no-image").get()).isNull();
    }

    @Test
    void aRunCreatedThroughTheKfpApiEndsFailedSayingWhy() throws Exception {
        var body = Json.json().createObjectNode();
        body.put("display_name", "iris-on-k8s");
        body.set("pipeline_spec", Json.yaml().readTree(Files.readString(Path.of("../examples/iris/iris-pipeline.yaml"))));
        var res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/v2beta1/runs"))
                .header("Authorization", "Bearer " + Files.readString(home.resolve("token")).trim())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        var id = Json.json().readTree(res.body()).path("run_id").asText();
        eventually(() -> admin().run("runs", "get", id).out().contains("FAILED"), true);
        var runs = admin().run("get", "pipelineruns", "-A", "-o", "json");
        assertThat(runs.exitCode()).as(runs.err()).isZero();
        // This server has no S3, which a pipeline's steps need to reach their pods.
        assertThat(runs.out()).contains(id).contains("on the Kubernetes backend need S3").contains("BackendUnsupported");
        assertThat(kubectl.pods().inNamespace(NS).list().getItems()).noneMatch(p -> p.getMetadata().getLabels().containsKey("capstan.io/run"));
    }

    @Test
    void serverFlagsForKubernetesAreCheckedBeforeAnythingStarts() {
        var cli = Cli.against("http://127.0.0.1:9").env("CAPSTAN_HOME", home.resolve("unused").toString());
        var local = cli.run("server", "--kubeconfig", "/tmp/kc");
        assertThat(local.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(local.err()).contains("need --backend kubernetes");
        var unknown = cli.run("server", "--backend", "nomad");
        assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).contains("expected local or kubernetes");
        var badMap = cli.run("server", "--backend", "kubernetes", "--namespace-map", "team-a=Not_A_Namespace");
        assertThat(badMap.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(badMap.err()).contains("namespace-map").contains("Not_A_Namespace");
        var missing = cli.run("server", "--backend", "kubernetes", "--kubeconfig", home.resolve("nope.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).contains("no such readable file");
    }

    // ---- the kubelet and the Job controller, played on the mock

    /** Makes the Job's pod, runs it with {@code lines} as its log, and completes the Job; returns the pod's name. */
    static String jobController(Job job, String... lines) {
        var pod = kubelet.jobPod(job);
        kubelet.runPod(pod, 0, lines);
        kubelet.completeJob(job.getMetadata().getName(), 1);
        return pod;
    }

    static JsonNode resource(String plural, String ns, String name) {
        return KubernetesModeServer.resource(admin(), plural, ns, name);
    }

    static String phase(String plural, String ns, String name) {
        return resource(plural, ns, name).path("status").path("phase").asText("");
    }

    static String condition(JsonNode resource, String type) {
        for (var c : resource.path("status").path("conditions")) if (type.equals(c.path("type").asText())) return c.path("status").asText();
        return "";
    }
}
