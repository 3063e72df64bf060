package io.capstan.kubernetes;

import static io.capstan.kubernetes.KubernetesBackendTest.eventually;
import static io.capstan.kubernetes.KubernetesBackendTest.texts;
import static io.capstan.kubernetes.testing.Kubelet.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.InvalidSpecException;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TrainJobs and XGBoostJobs on the cluster (fabric8's mock in CRUD mode), where this test plays the Job controller
 * and the kubelet: a TrainJob's nodes are one Indexed Job whose pods are told apart by their completion index, and
 * an XGBoostJob's ranks are pods with Services, its tracker living in the master.
 */
class TrainingPlacementTest {
    static final String NS = "jobs";

    @TempDir
    Path stateDir;
    @TempDir
    Path otherStateDir;
    KubernetesMockServer server;
    KubernetesClient kubectl;
    Kubelet kubelet;
    ServerBackend backend;

    @BeforeEach
    void start() {
        server = MockCluster.start();
        kubectl = server.createClient();
        kubelet = new Kubelet(server, kubectl, NS);
    }

    @AfterEach
    void stop() {
        if (backend != null) backend.close();
        kubectl.close();
        server.destroy();
    }

    ServerBackend open(Path dir) {
        return ServerBackend.open(server.createClient(), dir, ServerBackend.NamespaceMap.parse("*=" + NS), Optional.empty());
    }

    /** Node {@code node} of a 2-node TrainJob on torchrun, as the training engine hands it to a backend. */
    static WorkloadSpec node(String job, int attempt, int node, int nodes, Map<String, String> extra) {
        var env = new HashMap<String, String>(Map.of("CAPSTAN_JOB_KIND", "TrainJob", "CAPSTAN_JOB_NAME", job, "CAPSTAN_JOB_NAMESPACE", "team-a",
                "CAPSTAN_ATTEMPT", Integer.toString(attempt), "CAPSTAN_REPLICA_TYPE", "node", "CAPSTAN_REPLICA_INDEX", Integer.toString(node),
                "CAPSTAN_RANK", Integer.toString(node), "PET_NNODES", Integer.toString(nodes), "PET_NPROC_PER_NODE", "1"));
        env.putAll(Map.of("PET_NODE_RANK", Integer.toString(node), "PET_MASTER_ADDR", "127.0.0.1", "PET_MASTER_PORT", "41000",
                "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "41000"));
        env.putAll(extra);
        return new WorkloadSpec("trn_u1_" + attempt + "_" + node, List.of("torchrun", "train.py"), env, Optional.of(Path.of("/var/lib/capstan/work")),
                new ResourceRequest(1, 0, 0), Optional.empty(), 0, Optional.of("pytorch:2"), new ContainerOptions(ContainerOptions.Execution.AUTO,
                Optional.empty(), List.of(), Optional.empty()), Optional.of("team-a"), Optional.of(new WorkloadSpec.Gang("u1-" + attempt, nodes)));
    }

    @Test
    void aTrainJobsNodesAreOneIndexedJobAndEachFollowsThePodAtItsCompletionIndex() {
        backend = open(stateDir);
        backend.launch(node("tj", 1, 0, 2, Map.of()));
        backend.launch(node("tj", 1, 1, 2, Map.of()));
        // Idempotent: a relaunch after a crash joins what is there.
        backend.launch(node("tj", 1, 1, 2, Map.of()));

        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).list().getItems()).hasSize(1);
        var job = kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-tj-node-0").get();
        assertThat(job.getSpec().getCompletionMode()).isEqualTo("Indexed");
        assertThat(job.getSpec().getCompletions()).isEqualTo(2);
        assertThat(job.getSpec().getParallelism()).isEqualTo(2);
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        var pod = job.getSpec().getTemplate().getSpec();
        assertThat(pod.getSubdomain()).isEqualTo("team-a-tj");
        var container = pod.getContainers().getFirst();
        assertThat(container.getName()).isEqualTo("node");
        assertThat(container.getImage()).isEqualTo("pytorch:2");
        assertThat(container.getCommand()).containsExactly("torchrun", "train.py");
        var values = Kubelet.env(container.getEnv());
        assertThat(values).containsEntry("PET_NNODES", "2").containsEntry("PET_NPROC_PER_NODE", "1")
                .containsEntry("PET_MASTER_ADDR", "team-a-tj-node-0-0.team-a-tj").containsEntry("PET_MASTER_PORT", "29500")
                .containsEntry("MASTER_ADDR", "team-a-tj-node-0-0.team-a-tj").containsEntry("MASTER_PORT", "29500")
                .doesNotContainKeys("PET_NODE_RANK", "CAPSTAN_RANK");
        var fromIndex = container.getEnv().stream().filter(e -> e.getValueFrom() != null)
                .collect(Collectors.toMap(EnvVar::getName, e -> e.getValueFrom().getFieldRef().getFieldPath()));
        assertThat(fromIndex).containsEntry("PET_NODE_RANK", "metadata.annotations['batch.kubernetes.io/job-completion-index']")
                .containsKeys("CAPSTAN_RANK", "CAPSTAN_REPLICA_INDEX");
        var service = kubectl.services().inNamespace(NS).withName("team-a-tj").get();
        assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(service.getSpec().getSelector()).isEqualTo(job.getSpec().getTemplate().getMetadata().getLabels().entrySet().stream()
                .filter(e -> e.getKey().equals(CapstanLabels.WORKLOAD_ID)).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));

        // The Job controller makes a pod per index; node 0 waits for its gang until both are placed.
        var pod0 = kubelet.indexedJobPod(job, 0);
        var pod1 = kubelet.indexedJobPod(job, 1);
        serveLogs(pod0, "node 0 says hi");
        serveLogs(pod1, "node 1 says hi");
        kubelet.setPod(pod0, running());
        KubernetesBackendTest.sleep(300);
        assertThat(backend.find("trn_u1_1_0").orElseThrow().phase()).isEqualTo(WorkloadPhase.QUEUED);
        assertThat(backend.find("trn_u1_1_0").orElseThrow().message()).contains("1 of 2 pods scheduled");
        kubelet.setPod(pod1, running());
        eventually(() -> backend.find("trn_u1_1_0").map(WorkloadState::phase).orElse(null), WorkloadPhase.RUNNING);
        eventually(() -> backend.find("trn_u1_1_1").map(WorkloadState::phase).orElse(null), WorkloadPhase.RUNNING);
        KubernetesBackendTest.sleep(300);
        kubelet.finishPod(pod1, 0);
        eventually(() -> backend.find("trn_u1_1_1").map(WorkloadState::phase).orElse(null), WorkloadPhase.SUCCEEDED);
        assertThat(backend.find("trn_u1_1_0").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        kubelet.finishPod(pod0, 0);
        eventually(() -> backend.find("trn_u1_1_0").map(WorkloadState::phase).orElse(null), WorkloadPhase.SUCCEEDED);
        // Each node's log is its own pod's.
        eventually(() -> texts(backend.tail("trn_u1_1_0", 10)), List.of("node 0 says hi"));
        eventually(() -> texts(backend.tail("trn_u1_1_1", 10)), List.of("node 1 says hi"));

        // Another replica, which never launched them, adopts both members from the Job by its labels.
        backend.close();
        backend = open(otherStateDir);
        eventually(() -> backend.find("trn_u1_1_0").map(WorkloadState::phase).orElse(null), WorkloadPhase.SUCCEEDED);
        eventually(() -> backend.find("trn_u1_1_1").map(WorkloadState::phase).orElse(null), WorkloadPhase.SUCCEEDED);
        assertThat(backend.list()).extracting(WorkloadState::id).containsExactly("trn_u1_1_0", "trn_u1_1_1");
    }

    @Test
    void cancellingANodeCancelsTheWholeIndexedJobAndDeletesItsPodsAndService() {
        backend = open(stateDir);
        backend.launch(node("tj", 2, 0, 2, Map.of()));
        backend.launch(node("tj", 2, 1, 2, Map.of()));
        var job = kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-tj-r2-node-0").get();
        assertThat(job).isNotNull();
        var pod0 = kubelet.indexedJobPod(job, 0);
        var pod1 = kubelet.indexedJobPod(job, 1);
        kubelet.setPod(pod0, running());
        kubelet.setPod(pod1, running());
        eventually(() -> backend.find("trn_u1_2_1").map(WorkloadState::phase).orElse(null), WorkloadPhase.RUNNING);

        assertThat(backend.cancel("trn_u1_2_0").phase()).isEqualTo(WorkloadPhase.CANCELLED);
        assertThat(backend.find("trn_u1_2_1").orElseThrow().phase()).isEqualTo(WorkloadPhase.CANCELLED);
        // No garbage collector here: the pods and the Service are deleted by name and label, not through the Job.
        eventually(() -> kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-tj-r2-node-0").get() == null, true);
        eventually(() -> kubectl.pods().inNamespace(NS).list().getItems().isEmpty(), true);
        assertThat(kubectl.services().inNamespace(NS).withName("team-a-tj-r2").get()).isNull();
        KubernetesBackendTest.sleep(300);
        assertThat(backend.find("trn_u1_2_1").orElseThrow().phase()).isEqualTo(WorkloadPhase.CANCELLED);
    }

    @Test
    void aFailedNodeFailsWithItsExitCodeAndTheJobsFailureEndsTheOthers() {
        backend = open(stateDir);
        backend.launch(node("tj", 1, 0, 2, Map.of()));
        backend.launch(node("tj", 1, 1, 2, Map.of()));
        var job = kubectl.batch().v1().jobs().inNamespace(NS).withName("team-a-tj-node-0").get();
        var pod0 = kubelet.indexedJobPod(job, 0);
        var pod1 = kubelet.indexedJobPod(job, 1);
        kubelet.setPod(pod0, running());
        kubelet.setPod(pod1, running());
        eventually(() -> backend.find("trn_u1_1_0").map(WorkloadState::phase).orElse(null), WorkloadPhase.RUNNING);
        kubelet.finishPod(pod1, 3);
        eventually(() -> backend.find("trn_u1_1_1").map(WorkloadState::phase).orElse(null), WorkloadPhase.FAILED);
        assertThat(backend.find("trn_u1_1_1").orElseThrow().exitCode()).contains(3);
        assertThat(backend.find("trn_u1_1_1").orElseThrow().message()).isEqualTo("exited with code 3");
        // backoffLimit 0: the Job controller fails the Job and stops the other pod.
        kubelet.failJob("team-a-tj-node-0");
        eventually(() -> backend.find("trn_u1_1_0").map(WorkloadState::phase).orElse(null), WorkloadPhase.FAILED);
        assertThat(backend.find("trn_u1_1_0").orElseThrow().message()).contains("BackoffLimitExceeded");
    }

    @Test
    void whatATrainJobNodeCannotBeInAPodIsRefusedNamingTheField() {
        backend = open(stateDir);
        assertThatThrownBy(() -> backend.launch(node("x", 1, 0, 2, Map.of("DMLC_TRACKER_URI", "127.0.0.1"))))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.runtimeRef").hasMessageContaining("XGBoostJob");
        assertThatThrownBy(() -> backend.launch(node("x", 1, 0, 2, Map.of("LOCAL_WORLD_SIZE", "2", "LOCAL_RANK", "0"))))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.trainer.command").hasMessageContaining("torchrun");
        assertThat(kubectl.batch().v1().jobs().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(backend.list()).isEmpty();
    }

    @Test
    void anElasticPyTorchJobsRanksGetTheRendezvousAsTheTrainingOperatorSetsIt() {
        backend = open(stateDir);
        var elastic = Map.of("CAPSTAN_ELASTIC_NNODES", "1:3", "CAPSTAN_ELASTIC_MAX_RESTARTS", "2", "CAPSTAN_ELASTIC_RDZV_CONF", "timeout=60",
                "PET_NODE_RANK", "1");
        backend.launch(ServerBackendTest.rank("el", 1, "Worker", 1, 1, elastic));
        var env = ServerBackendTest.env(kubectl.pods().inNamespace(NS).withName("team-a-el-worker-1").get());
        // The first worker's Service and the job's port, c10d by default.
        assertThat(env).containsEntry("PET_RDZV_ENDPOINT", "team-a-el-worker-0:41000").containsEntry("PET_RDZV_BACKEND", "c10d")
                .containsEntry("PET_NNODES", "1:3").containsEntry("PET_MAX_RESTARTS", "2").containsEntry("PET_RDZV_CONF", "timeout=60")
                .doesNotContainKeys("PET_RDZV_ID", "PET_STANDALONE", "CAPSTAN_ELASTIC_NNODES", "CAPSTAN_ELASTIC_MAX_RESTARTS");
        // rdzvHost and rdzvPort win where given; a job that is not elastic gets no rendezvous.
        backend.launch(ServerBackendTest.rank("eh", 1, "Worker", 0, 0, Map.of("CAPSTAN_ELASTIC_NNODES", "2", "CAPSTAN_ELASTIC_RDZV_HOST", "etcd.infra",
                "CAPSTAN_ELASTIC_RDZV_PORT", "2379", "CAPSTAN_ELASTIC_RDZV_BACKEND", "etcd", "CAPSTAN_ELASTIC_STANDALONE", "")));
        assertThat(ServerBackendTest.env(kubectl.pods().inNamespace(NS).withName("team-a-eh-worker-0").get()))
                .containsEntry("PET_RDZV_ENDPOINT", "etcd.infra:2379").containsEntry("PET_RDZV_BACKEND", "etcd").containsEntry("PET_NNODES", "2")
                .containsEntry("PET_STANDALONE", "");
        backend.launch(ServerBackendTest.rank("st", 2, "Worker", 0, 0, Map.of()));
        assertThat(ServerBackendTest.env(kubectl.pods().inNamespace(NS).withName("team-a-st-r2-worker-0").get())).doesNotContainKeys("PET_RDZV_ENDPOINT", "PET_RDZV_BACKEND");
    }

    static WorkloadSpec xgbRank(String type, int index, int rank) {
        var env = new HashMap<String, String>(Map.of("CAPSTAN_JOB_KIND", "XGBoostJob", "CAPSTAN_JOB_NAME", "xgb", "CAPSTAN_JOB_NAMESPACE", "team-a",
                "CAPSTAN_ATTEMPT", "1", "CAPSTAN_REPLICA_TYPE", type, "CAPSTAN_REPLICA_INDEX", Integer.toString(index),
                "CAPSTAN_RANK", Integer.toString(rank), "DMLC_TRACKER_URI", "127.0.0.1", "DMLC_TRACKER_PORT", "42000", "DMLC_NUM_WORKER", "3"));
        env.putAll(Map.of("DMLC_TASK_ID", Integer.toString(rank), "WORLD_SIZE", "3", "RANK", Integer.toString(rank)));
        return new WorkloadSpec("trn_x1_1_" + rank, List.of("python3", "train.py"), env, Optional.of(Path.of("/var/lib/capstan/work")),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of("xgboost:2"), ContainerOptions.DEFAULT, Optional.of("team-a"),
                Optional.of(new WorkloadSpec.Gang("x1-1", 3)));
    }

    @Test
    void anXGBoostJobsRanksArePodsWithServicesAndItsTrackerIsTheMastersPod() {
        backend = open(stateDir);
        backend.launch(xgbRank("Master", 0, 0));
        backend.launch(xgbRank("Worker", 0, 1));
        backend.launch(xgbRank("Worker", 1, 2));
        var tracker = new WorkloadSpec("trn_x1_1_tracker", List.of("java", "-cp", "/opt/capstan/lib/*", "XGBoostTracker"),
                Map.of("CAPSTAN_JOB_KIND", "XGBoostJob", "CAPSTAN_JOB_NAME", "xgb", "CAPSTAN_JOB_NAMESPACE", "team-a"),
                Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.empty());
        assertThat(backend.launch(tracker).id()).isEqualTo("trn_x1_1_tracker");

        var names = List.of("team-a-xgb-master-0", "team-a-xgb-worker-0", "team-a-xgb-worker-1");
        // Three pods, no fourth for the tracker.
        assertThat(kubectl.pods().inNamespace(NS).list().getItems()).extracting(p -> p.getMetadata().getName()).containsExactlyInAnyOrderElementsOf(names);
        for (int rank = 0; rank < 3; rank++) {
            var pod = kubectl.pods().inNamespace(NS).withName(names.get(rank)).get();
            var env = ServerBackendTest.env(pod);
            assertThat(env).containsEntry("DMLC_TRACKER_URI", "team-a-xgb-master-0").containsEntry("DMLC_TRACKER_PORT", "42000")
                    .containsEntry("DMLC_NUM_WORKER", "3").containsEntry("DMLC_TASK_ID", Integer.toString(rank)).containsEntry("DMLC_ROLE", "worker")
                    .containsEntry("MASTER_ADDR", "team-a-xgb-master-0").containsEntry("MASTER_PORT", "42000")
                    .containsEntry("WORLD_SIZE", "3").containsEntry("RANK", Integer.toString(rank))
                    .containsEntry("WORKER_ADDRS", "team-a-xgb-worker-0,team-a-xgb-worker-1").containsEntry("WORKER_PORT", "42000");
            assertThat(pod.getSpec().getContainers().getFirst().getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
                    .containsExactly("xgboostjob-port:42000");
            assertThat(pod.getMetadata().getLabels()).containsEntry("training.kubeflow.org/operator-name", "xgboostjob-controller");
            assertThat(kubectl.services().inNamespace(NS).withName(names.get(rank)).get().getSpec().getClusterIP()).isEqualTo("None");
        }

        serveLogs("team-a-xgb-master-0", "[tracker] all workers joined", "train-logloss:0.1");
        for (var n : names) kubelet.setPod(n, running());
        eventually(() -> backend.find("trn_x1_1_tracker").map(WorkloadState::phase).orElse(null), WorkloadPhase.RUNNING);
        assertThat(backend.find("trn_x1_1_tracker").orElseThrow().message()).startsWith("runs in the master's pod");
        KubernetesBackendTest.sleep(300);
        for (var n : names) kubelet.finishPod(n, 0);
        eventually(() -> backend.find("trn_x1_1_tracker").map(WorkloadState::phase).orElse(null), WorkloadPhase.SUCCEEDED);
        eventually(() -> texts(backend.tail("trn_x1_1_tracker", 10)), List.of("[tracker] all workers joined", "train-logloss:0.1"));
        // Removing the tracker leaves the master's pod to the master.
        backend.remove("trn_x1_1_tracker");
        assertThat(kubectl.pods().inNamespace(NS).withName("team-a-xgb-master-0").get()).isNotNull();
        backend.remove("trn_x1_1_0");
        assertThat(kubectl.pods().inNamespace(NS).withName("team-a-xgb-master-0").get()).isNull();
    }

    // ---- the kubelet

    /** Serves the pod's log as its first container's, which is named after the replica type. */
    void serveLogs(String pod, String... lines) {
        var container = kubectl.pods().inNamespace(NS).withName(pod).get().getSpec().getContainers().getFirst().getName();
        kubelet.serveContainerLogs(pod, container, lines);
    }
}
