package io.capstan.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
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

/** How the server's workloads, written for one machine, are placed on the cluster (fabric8's mock in CRUD mode). */
class ServerBackendTest {
    @TempDir
    Path stateDir;
    KubernetesMockServer server;
    KubernetesClient kubectl;
    ServerBackend backend;

    @BeforeEach
    void start() {
        server = MockCluster.start();
        kubectl = server.createClient();
    }

    @AfterEach
    void stop() {
        if (backend != null) backend.close();
        kubectl.close();
        server.destroy();
    }

    static WorkloadSpec rank(String job, int attempt, String type, int index, int rank, Map<String, String> extra) {
        var env = new HashMap<String, String>(Map.of("CAPSTAN_JOB_KIND", "PyTorchJob", "CAPSTAN_JOB_NAME", job, "CAPSTAN_JOB_NAMESPACE", "team-a",
                "CAPSTAN_ATTEMPT", Integer.toString(attempt), "CAPSTAN_REPLICA_TYPE", type, "CAPSTAN_REPLICA_INDEX", Integer.toString(index),
                "CAPSTAN_RANK", Integer.toString(rank), "MASTER_ADDR", "127.0.0.1", "PET_MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "41000"));
        env.putAll(extra);
        return new WorkloadSpec("trn_u1_" + attempt + "_" + rank, List.of("python3", "train.py"), env, Optional.of(Path.of("/var/lib/capstan/work")),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of("pytorch:2"), new ContainerOptions(ContainerOptions.Execution.AUTO,
                Optional.of(ContainerOptions.PullPolicy.NEVER), List.of(), Optional.of("/workspace")), Optional.of("team-a"), Optional.of(new WorkloadSpec.Gang("u1-" + attempt, 2)));
    }

    static Map<String, String> env(io.fabric8.kubernetes.api.model.Pod pod) {
        return Kubelet.env(pod.getSpec().getContainers().getFirst().getEnv());
    }

    @Test
    void workloadsGoToTheirOwnNamespaceWatchingAllWhenTheMapNamesNone() {
        backend = ServerBackend.open(server.createClient(), stateDir, ServerBackend.NamespaceMap.IDENTITY, Optional.empty());
        var env = Map.of("CAPSTAN_JOB_NAME", "hello", "CAPSTAN_JOB_NAMESPACE", "team-a", "CAPSTAN_JOB_UID", "u9");
        var spec = new WorkloadSpec("job_u9_2", List.of("echo", "hi"), env, Optional.of(Path.of("/var/lib/capstan/jobs/hello")), ResourceRequest.NONE,
                Optional.empty(), 0, Optional.of("busybox:1.36")).withNamespace("team-a");
        backend.launch(spec);
        var job = kubectl.batch().v1().jobs().inNamespace("team-a").withName("hello-retry-2").get();
        assertThat(job).isNotNull();
        assertThat(job.getSpec().getTemplate().getSpec().getContainers().getFirst().getWorkingDir()).isNull();
        // The informers watch every namespace: the pod's phase reaches the workload.
        var pod = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("hello-retry-2-abcde")
                .withLabels(job.getSpec().getTemplate().getMetadata().getLabels()).withAnnotations(job.getSpec().getTemplate().getMetadata().getAnnotations())
                .addToLabels("job-name", "hello-retry-2").endMetadata().withSpec(job.getSpec().getTemplate().getSpec()).build();
        kubectl.pods().inNamespace("team-a").resource(pod).create();
        kubectl.pods().inNamespace("team-a").withName("hello-retry-2-abcde").editStatus(p -> {
            p.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
            p.getStatus().setPhase("Running");
            return p;
        });
        KubernetesBackendTest.eventually(() -> backend.find("job_u9_2").orElseThrow().phase(), WorkloadPhase.RUNNING);
    }

    @Test
    void pytorchRanksFindRank0ByItsServiceInEveryShape() {
        backend = ServerBackend.open(server.createClient(), stateDir, ServerBackend.NamespaceMap.parse("team-a=ml,*=other"), Optional.empty());
        // Workers only: rank 0 is worker 0. A second attempt gets names of its own; team-a is mapped, so names carry it.
        backend.launch(rank("w", 2, "Worker", 0, 0, Map.of("PET_NODE_RANK", "0")));
        backend.launch(rank("w", 2, "Worker", 1, 1, Map.of("PET_NODE_RANK", "1")));
        var worker1 = kubectl.pods().inNamespace("ml").withName("team-a-w-r2-worker-1").get();
        assertThat(env(worker1)).containsEntry("MASTER_ADDR", "team-a-w-r2-worker-0").containsEntry("PET_MASTER_ADDR", "team-a-w-r2-worker-0")
                .containsEntry("MASTER_PORT", "41000");
        assertThat(kubectl.services().inNamespace("ml").withName("team-a-w-r2-worker-0").get().getSpec().getPorts().getFirst().getPort()).isEqualTo(41000);
        var container = worker1.getSpec().getContainers().getFirst();
        assertThat(container.getWorkingDir()).isEqualTo("/workspace");
        assertThat(container.getImagePullPolicy()).isEqualTo("Never");

        // A Master and processes Capstan starts one by one (no torchrun): a pod per process, rank 0 the master's first.
        backend.launch(rank("m", 1, "Worker", 0, 3, new HashMap<>(Map.of("PET_NODE_RANK", "1", "LOCAL_RANK", "1", "LOCAL_WORLD_SIZE", "2"))));
        var pod = kubectl.pods().inNamespace("ml").withName("team-a-m-worker-0-1").get();
        assertThat(env(pod)).containsEntry("MASTER_ADDR", "team-a-m-master-0-0");
    }

    @Test
    void whatHasNoKubernetesShapeIsRefusedSayingWhy() {
        backend = ServerBackend.open(server.createClient(), stateDir, ServerBackend.NamespaceMap.parse("*=jobs"), Optional.empty());
        var step = new WorkloadSpec("run_abc_train_1", List.of("python3", "-c", "pass"), Map.of(), Optional.empty(), ResourceRequest.NONE,
                Optional.empty(), 0, Optional.of("python:3.12"));
        assertThatThrownBy(() -> backend.launch(step)).isInstanceOf(InvalidSpecException.class).hasMessageContaining("run_abc_train_1")
                .hasMessageContaining("need the local backend");
        var tracker = new WorkloadSpec("trn_u_1_tracker", List.of("java"), Map.of("CAPSTAN_JOB_KIND", "XGBoostJob", "CAPSTAN_JOB_NAME", "x"),
                Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.empty());
        assertThatThrownBy(() -> backend.launch(tracker)).isInstanceOf(InvalidSpecException.class).hasMessageContaining("XGBoostJob 'x'");
        assertThat(backend.list()).isEmpty();
        assertThat(kubectl.pods().inNamespace("jobs").list().getItems()).isEmpty();
        assertThatThrownBy(() -> ServerBackend.NamespaceMap.parse("a=B_C")).isInstanceOf(InvalidSpecException.class).hasMessageContaining("B_C");
        assertThatThrownBy(() -> ServerBackend.NamespaceMap.parse("a")).isInstanceOf(InvalidSpecException.class).hasMessageContaining("FROM=TO");
    }

    static WorkloadSpec trial(String id, Map<String, String> extra) {
        var env = new HashMap<String, String>(Map.of("CAPSTAN_TRIAL_NAME", "tune-x7k2", "KATIB_TRIAL_NAME", "tune-x7k2", "CAPSTAN_TRIAL_NAMESPACE", "team-a",
                "CAPSTAN_EXPERIMENT_NAME", "tune", "CAPSTAN_TRIAL_DIR", "/var/lib/capstan/trials/tune-x7k2",
                "CAPSTAN_OBSERVATION_URL", "http://127.0.0.1:8080/apis/capstan/v1/namespaces/team-a/trials/tune-x7k2/observations",
                "CAPSTAN_TOKEN", "cap_scoped", "PYTHONUNBUFFERED", "1"));
        env.putAll(extra);
        return new WorkloadSpec(id, List.of("python3", "train.py", "--lr=0.1"), env, Optional.of(Path.of("/var/lib/capstan/trials/tune-x7k2")),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of("python:3.12"), new ContainerOptions(ContainerOptions.Execution.AUTO,
                Optional.empty(), List.of(ContainerOptions.Mount.samePath(Path.of("/var/lib/capstan/trials/tune-x7k2"))), Optional.of("/app")),
                Optional.of("team-a"), Optional.empty());
    }

    @Test
    void aTrialIsItsTemplatesJobWithoutTheServersFoldersOrLoopbackUrl() {
        backend = ServerBackend.open(server.createClient(), stateDir, ServerBackend.NamespaceMap.parse("*=jobs"), Optional.empty());
        backend.launch(trial("trial_u5", Map.of()));
        backend.launch(trial("trial_u5_2", Map.of()));
        var job = kubectl.batch().v1().jobs().inNamespace("jobs").withName("team-a-tune-x7k2").get();
        assertThat(job).isNotNull();
        assertThat(kubectl.batch().v1().jobs().inNamespace("jobs").withName("team-a-tune-x7k2-retry-2").get()).isNotNull();
        var pod = job.getSpec().getTemplate();
        assertThat(pod.getMetadata().getLabels()).containsEntry("katib.kubeflow.org/experiment", "tune").containsEntry("katib.kubeflow.org/trial", "tune-x7k2")
                .containsEntry("capstan.io/owner-kind", "Trial").containsEntry("capstan.io/owner-name", "tune-x7k2");
        var container = pod.getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo("python:3.12");
        assertThat(container.getWorkingDir()).isEqualTo("/app");
        assertThat(container.getCommand()).containsExactly("python3", "train.py", "--lr=0.1");
        var env = container.getEnv().stream().filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        assertThat(env).containsEntry("KATIB_TRIAL_NAME", "tune-x7k2").containsEntry("PYTHONUNBUFFERED", "1")
                .doesNotContainKeys("CAPSTAN_TRIAL_DIR", "CAPSTAN_OBSERVATION_URL", "CAPSTAN_TOKEN");
        assertThat(pod.getSpec().getVolumes()).isNullOrEmpty();

        // A trial that reads or writes a file in the server's folders cannot work in a pod.
        assertThatThrownBy(() -> backend.launch(trial("trial_u6", Map.of("CAPSTAN_METRICS_FILE", "/var/lib/capstan/trials/t/katib/metrics.log"))))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("CAPSTAN_METRICS_FILE").hasMessageContaining("stdout");
        assertThat(kubectl.batch().v1().jobs().inNamespace("jobs").list().getItems()).hasSize(2);
    }
}
