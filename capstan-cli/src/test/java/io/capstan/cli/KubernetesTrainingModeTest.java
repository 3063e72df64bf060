package io.capstan.cli;

import static io.capstan.cli.KubernetesModeTest.condition;
import static io.capstan.kubernetes.testing.Eventually.eventually;
import static io.capstan.kubernetes.testing.Kubelet.env;
import static io.capstan.kubernetes.testing.Kubelet.running;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.capstan.server.CapstanServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TrainJobs and XGBoostJobs through {@code capstan server --backend kubernetes}, against fabric8's mock API server in
 * CRUD mode where the test plays the Job controller and the kubelet: applied over HTTP, they become an Indexed Job
 * with a headless Service, or pods with Services, and succeed when those do.
 */
class KubernetesTrainingModeTest {
    static final String NS = "capstan-train";

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
    void aTrainJobRunsAsAnIndexedJobWhoseNodesFindTheFirstThroughTheService() throws Exception {
        var file = Files.writeString(home.resolve("tj.yaml"), """
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: tj, namespace: team-a}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer:
                    image: pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
                    command: [torchrun, train.py]
                    numNodes: 2
                    env: [{name: EPOCHS, value: "3"}]
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();

        eventually(() -> kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-tj-node-0").get() != null, true);
        var job = kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-tj-node-0").get();
        assertThat(job.getSpec().getCompletionMode()).isEqualTo("Indexed");
        assertThat(job.getSpec().getCompletions()).isEqualTo(2);
        assertThat(job.getSpec().getParallelism()).isEqualTo(2);
        assertThat(job.getSpec().getTemplate().getSpec().getSubdomain()).isEqualTo("team-a-tj");
        var container = job.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getName()).isEqualTo("node");
        assertThat(container.getImage()).isEqualTo("pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime");
        assertThat(env(container.getEnv())).containsEntry("PET_NNODES", "2").containsEntry("PET_NPROC_PER_NODE", "1")
                .containsEntry("PET_MASTER_ADDR", "team-a-tj-node-0-0.team-a-tj").containsEntry("PET_MASTER_PORT", "29500")
                .containsEntry("EPOCHS", "3").doesNotContainKey("PET_NODE_RANK");
        assertThat(container.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("PET_NODE_RANK");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.annotations['batch.kubernetes.io/job-completion-index']");
        });
        var service = kubectl.services().inNamespace(NS).withName("team-a-tj").get();
        assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
        // One Job for both nodes: the second node joined the first's.
        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).list().getItems()).hasSize(1);

        var pod0 = kubelet.indexedJobPod(job, 0);
        var pod1 = kubelet.indexedJobPod(job, 1);
        kubelet.serveContainerLogs(pod0, "node", "rank 0 loss 0.5");
        kubelet.serveContainerLogs(pod1, "node", "rank 1 loss 0.4");
        kubelet.setPod(pod0, running());
        kubelet.setPod(pod1, running());
        eventually(() -> condition(resource("trainjobs", "team-a", "tj"), "Running"), "True");
        Thread.sleep(300);
        kubelet.finishPod(pod0, 0);
        kubelet.finishPod(pod1, 0);
        kubelet.completeJob(job.getMetadata().getName(), job.getSpec().getCompletions());
        eventually(() -> condition(resource("trainjobs", "team-a", "tj"), "Succeeded"), "True");

        var logs = admin().run("logs", "tj", "--rank", "1", "-n", "team-a");
        assertThat(logs.exitCode()).as(logs.err()).isZero();
        assertThat(logs.out().lines().toList()).containsExactly("rank 1 loss 0.4");
    }

    @Test
    void anXGBoostJobRunsAsPodsWithServicesAndItsMasterRunsTheTracker() throws Exception {
        var file = Files.writeString(home.resolve("xgb.yaml"), """
                apiVersion: kubeflow.org/v1
                kind: XGBoostJob
                metadata: {name: xgb, namespace: team-a}
                spec:
                  xgbReplicaSpecs:
                    Master:
                      replicas: 1
                      template:
                        spec:
                          containers:
                            - {name: xgboost, image: docker.io/kubeflow/xgboost-dist-iris:latest, command: [python, /opt/main.py], args: [--job_type=Train]}
                    Worker:
                      replicas: 2
                      template:
                        spec:
                          containers:
                            - {name: xgboost, image: docker.io/kubeflow/xgboost-dist-iris:latest, command: [python, /opt/main.py], args: [--job_type=Train]}
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        var names = List.of("team-a-xgb-master-0", "team-a-xgb-worker-0", "team-a-xgb-worker-1");
        for (var n : names) {
            eventually(() -> kubectl.pods().inNamespace(NS).withName(n).get() != null, true);
            eventually(() -> kubectl.services().inNamespace(NS).withName(n).get() != null, true);
        }
        String port = null;
        for (int rank = 0; rank < 3; rank++) {
            var pod = kubectl.pods().inNamespace(NS).withName(names.get(rank)).get();
            var env = env(pod.getSpec().getContainers().getFirst().getEnv());
            assertThat(env).containsEntry("DMLC_TRACKER_URI", "team-a-xgb-master-0").containsEntry("DMLC_NUM_WORKER", "3")
                    .containsEntry("DMLC_TASK_ID", Integer.toString(rank)).containsEntry("MASTER_ADDR", "team-a-xgb-master-0")
                    .containsEntry("RANK", Integer.toString(rank)).containsEntry("WORLD_SIZE", "3");
            port = env.get("DMLC_TRACKER_PORT");
            assertThat(pod.getSpec().getContainers().getFirst().getCommand()).containsExactly("python", "/opt/main.py", "--job_type=Train");
        }
        assertThat(kubectl.services().inNamespace(NS).withName("team-a-xgb-master-0").get().getSpec().getPorts().getFirst().getPort())
                .isEqualTo(Integer.parseInt(port));
        // No pod for Capstan's own tracker: the master runs it.
        Thread.sleep(500);
        assertThat(kubectl.pods().inNamespace(NS).list().getItems()).extracting(p -> p.getMetadata().getName())
                .filteredOn(n -> n.startsWith("team-a-xgb")).containsExactlyInAnyOrderElementsOf(names);

        kubelet.serveContainerLogs("team-a-xgb-master-0", "main", "tracker started", "[0] train-mlogloss:0.5");
        for (var n : names) kubelet.setPod(n, running());
        eventually(() -> condition(resource("xgboostjobs", "team-a", "xgb"), "Running"), "True");
        Thread.sleep(300);
        for (var n : names) kubelet.finishPod(n, 0);
        eventually(() -> condition(resource("xgboostjobs", "team-a", "xgb"), "Succeeded"), "True");
        var logs = admin().run("logs", "xgb", "--rank", "0", "-n", "team-a");
        assertThat(logs.exitCode()).as(logs.err()).isZero();
        assertThat(logs.out().lines().toList()).containsExactly("tracker started", "[0] train-mlogloss:0.5");
    }

    @Test
    void whatATrainingJobCannotDoInAPodIsRefusedWith400NamingTheField() throws Exception {
        var refused = Map.of(
                "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: init}\nspec:\n  runtimeRef: {name: torch-distributed}\n"
                        + "  trainer: {image: x, command: [torchrun, t.py]}\n  initializer:\n    dataset: {storageUri: 's3://data/iris.csv'}\n",
                "spec.initializer.dataset",
                "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: TrainJob\nmetadata: {name: xgbrt}\nspec:\n  runtimeRef: {name: xgboost-distributed}\n",
                "spec.runtimeRef.name",
                "apiVersion: kubeflow.org/v1\nkind: XGBoostJob\nmetadata: {name: noimage}\nspec:\n  xgbReplicaSpecs:\n    Master:\n      replicas: 1\n"
                        + "      template: {spec: {containers: [{name: xgboost, command: [python3, t.py]}]}}\n",
                "spec.xgbReplicaSpecs.Master.template.spec.containers[0].image",
                "apiVersion: kubeflow.org/v1\nkind: XGBoostJob\nmetadata: {name: argsonly}\nspec:\n  xgbReplicaSpecs:\n    Master:\n      replicas: 1\n"
                        + "      template: {spec: {containers: [{name: xgboost, image: x, args: [--job_type=Train]}]}}\n",
                "spec.xgbReplicaSpecs.Master.template.spec.containers[0].command");
        var token = Files.readString(home.resolve("token")).trim();
        var http = HttpClient.newHttpClient();
        for (var e : refused.entrySet()) {
            var response = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/capstan/v1/apply"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(e.getKey())).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
            assertThat(response.body()).contains(e.getValue());
        }
        // Nothing was stored, and nothing reached the cluster.
        assertThat(admin().run("get", "trainjobs", "init").exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).withName("default-init-node-0").get()).isNull();
    }

    @Test
    void aTrainJobWhoseNodesCannotEachBeOnePodFailsSayingWhyInsteadOfRetrying() throws Exception {
        // Two processes per node without torchrun: Capstan would start each itself, which a pod per node cannot hold.
        var file = Files.writeString(home.resolve("procs.yaml"), """
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: procs, namespace: team-a}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {image: x, command: [python3, train.py], numProcPerNode: 2}
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        eventually(() -> resource("trainjobs", "team-a", "procs").path("status").path("phase").asText(""), "Failed");
        assertThat(resource("trainjobs", "team-a", "procs").toString()).contains("spec.trainer.command").contains("torchrun");
        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-procs-node-0").get()).isNull();
    }

    // ---- the Job controller and the kubelet, played on the mock

    static JsonNode resource(String plural, String ns, String name) {
        return KubernetesModeServer.resource(admin(), plural, ns, name);
    }
}
