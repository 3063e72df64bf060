package io.capstan.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.kubernetes.testing.MockCluster;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pipeline step's attempt placed by the server's backend as one Pod (fabric8's mock in CRUD mode). */
class PipelineStepPodTest {
    static final String DIR = "/var/lib/capstan/work/runs/u1/produce/attempt-2";

    @TempDir
    Path stateDir;
    KubernetesMockServer server;
    KubernetesClient kubectl;
    ServerBackend backend;

    @BeforeEach
    void start() {
        server = MockCluster.start();
        kubectl = server.createClient();
        backend = ServerBackend.open(server.createClient(), stateDir, ServerBackend.NamespaceMap.parse("*=pipes"), Optional.empty());
    }

    @AfterEach
    void stop() {
        if (backend != null) backend.close();
        kubectl.close();
        server.destroy();
    }

    static WorkloadSpec step(Optional<String> image, List<String> command) {
        var env = Map.of("CAPSTAN_STEP_STAGE", "s3://capstan/pipeline-steps/pr_u1_ab12_2", "CAPSTAN_STEP_DIR", DIR,
                "CAPSTAN_RUN", "iris", "CAPSTAN_TASK", "train.fit", "CAPSTAN_ATTEMPT", "2", "GREETING", "hi");
        return new WorkloadSpec("pr_u1_ab12_2", command, env, Optional.of(Path.of(DIR)), new ResourceRequest(0.5, 0, 0), Optional.empty(), 0, image)
                .withNamespace("team-a");
    }

    static Container container(Pod pod, String name) {
        return pod.getSpec().getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aStepsAttemptIsOnePodLabelledWithRunTaskAndAttemptThatPullsRunsAndPushes() {
        backend.launch(step(Optional.of("python:3.12"), List.of("python3", "-c", "print(1)")));
        var pod = kubectl.pods().inNamespace("pipes").withName("team-a-iris-train-fit-2").get();
        assertThat(pod).isNotNull();
        assertThat(pod.getMetadata().getLabels()).containsEntry("capstan.io/run", "iris").containsEntry("capstan.io/task", "train.fit")
                .containsEntry("capstan.io/attempt", "2").containsEntry("capstan.io/owner-kind", "PipelineRun")
                .containsEntry("capstan.io/owner-name", "iris").containsEntry("app.kubernetes.io/managed-by", "capstan");
        // Exactly one Pod, and nothing else: no driver pod, no Service.
        assertThat(kubectl.pods().inNamespace("pipes").list().getItems()).hasSize(1);
        assertThat(kubectl.services().inNamespace("pipes").list().getItems()).isEmpty();

        var spec = pod.getSpec();
        assertThat(spec.getRestartPolicy()).isEqualTo("Never");
        assertThat(spec.getVolumes()).singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());
        var pull = spec.getInitContainers().getFirst();
        assertThat(pull.getName()).isEqualTo("capstan-pull");
        assertThat(pull.getImage()).isEqualTo("capstan:latest");
        assertThat(pull.getArgs()).containsExactly("step-io", "pull");
        var main = container(pod, "main");
        assertThat(main.getImage()).isEqualTo("python:3.12");
        assertThat(main.getCommand()).containsExactly("sh", "-c", PipelineStepPod.WRAPPER, "capstan-step", "python3", "-c", "print(1)");
        assertThat(main.getResources().getRequests().get("cpu").toString()).isEqualTo("500m");
        assertThat(container(pod, "capstan-push").getArgs()).containsExactly("step-io", "push", "--wait");
        for (var c : List.of(pull, main, container(pod, "capstan-push"))) {
            // The attempt folder is where the resolved command's paths point, in every container.
            assertThat(c.getVolumeMounts()).singleElement().satisfies(m -> assertThat(m.getMountPath()).isEqualTo(DIR));
            assertThat(c.getEnvFrom()).singleElement().satisfies(e -> assertThat(e.getSecretRef().getName()).isEqualTo("capstan-s3"));
        }
        assertThat(main.getEnv()).anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("GREETING=hi"));
    }

    @Test
    void theWrapperKeepsTheStepsExitCodeAndLeavesItForTheSidecar(@TempDir Path dir) throws Exception {
        for (int code : new int[]{0, 7}) {
            var command = List.of("sh", "-c", PipelineStepPod.WRAPPER, "capstan-step", "sh", "-c", "echo 'it ran'; exit " + code);
            var pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("CAPSTAN_STEP_DIR", dir.toString());
            var p = pb.start();
            var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).isEqualTo(code);
            assertThat(out).isEqualTo("it ran\n");
            assertThat(Files.readString(dir.resolve(PipelineStepPod.EXIT_FILE)).strip()).isEqualTo(Integer.toString(code));
        }
    }

    @Test
    void aStepWithoutAnImageOrFolderIsRefusedNamingTheField() {
        assertThatThrownBy(() -> backend.launch(step(Optional.empty(), List.of("true")))).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("container.image").hasMessageContaining("train.fit");
        var relative = step(Optional.of("busybox"), List.of("true"));
        var env = new HashMap<>(relative.env());
        env.put("CAPSTAN_STEP_DIR", "work/attempt");
        var bad = new WorkloadSpec(relative.id(), relative.command(), env, Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, relative.image());
        assertThatThrownBy(() -> backend.launch(bad)).isInstanceOf(InvalidSpecException.class).hasMessageContaining("CAPSTAN_STEP_DIR");
        assertThat(kubectl.pods().inNamespace("pipes").list().getItems()).isEmpty();
        assertThat(backend.list()).isEmpty();
    }
}
