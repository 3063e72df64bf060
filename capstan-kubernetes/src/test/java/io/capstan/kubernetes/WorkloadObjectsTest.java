package io.capstan.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadSpec;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WorkloadObjectsTest {
    static final String LONG = "run_0f8c6d2e-3b7a-4c1d-9e5f-a1b2c3d4e5f6_train-model-with-a-long-task-name_attempt_1";

    static Pod pod(WorkloadSpec spec, Placement placement) {
        return (Pod) WorkloadObjects.of(spec, placement, "default", Optional.of("busybox:1.36")).getFirst();
    }

    @Test
    void longIdsBecomeValidDistinctNamesAndLabelsAndStayWholeInTheAnnotation() {
        var a = pod(WorkloadSpec.of(LONG, List.of("true")), Placement.defaults());
        var b = pod(WorkloadSpec.of(LONG.replace("attempt_1", "attempt_2"), List.of("true")), Placement.defaults());
        var name = a.getMetadata().getName();
        assertThat(CapstanLabels.isDnsLabel(name)).as(name).isTrue();
        assertThat(name).startsWith("run-0f8c6d2e").isNotEqualTo(b.getMetadata().getName());
        var label = a.getMetadata().getLabels().get(CapstanLabels.WORKLOAD_ID);
        assertThat(label).hasSizeLessThanOrEqualTo(63).matches("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
                .isNotEqualTo(b.getMetadata().getLabels().get(CapstanLabels.WORKLOAD_ID));
        assertThat(a.getMetadata().getAnnotations()).containsEntry(CapstanLabels.WORKLOAD_ID_ANNOTATION, LONG);
        // Short ids that already are names are kept as they are.
        assertThat(pod(WorkloadSpec.of("step-a", List.of("true")), Placement.defaults()).getMetadata().getName()).isEqualTo("step-a");
    }

    @Test
    void aPipelineStepCarriesRunTaskAndAttemptAndItsResources() {
        var spec = new WorkloadSpec("run_1_train_2", List.of("python3", "train.py"), Map.of("B", "2", "A", "1"), Optional.empty(),
                new ResourceRequest(2, 1L << 30, 1), Optional.of(Duration.ofMinutes(5)), 0, Optional.empty());
        var pod = pod(spec, Placement.defaults().inNamespace("team-a").withImagePullPolicy("IfNotPresent")
                .withLabels(Map.of(CapstanLabels.RUN, "run-1", CapstanLabels.TASK, "train", CapstanLabels.ATTEMPT, "2")));
        assertThat(pod.getMetadata().getNamespace()).isEqualTo("team-a");
        assertThat(pod.getMetadata().getLabels()).containsEntry(CapstanLabels.RUN, "run-1").containsEntry(CapstanLabels.TASK, "train")
                .containsEntry(CapstanLabels.ATTEMPT, "2");
        var c = pod.getSpec().getContainers().getFirst();
        assertThat(c.getImage()).isEqualTo("busybox:1.36");
        assertThat(c.getImagePullPolicy()).isEqualTo("IfNotPresent");
        assertThat(c.getEnv()).extracting(e -> e.getName()).containsExactly("A", "B");
        assertThat(c.getResources().getRequests().get("cpu").toString()).isEqualTo("2");
        assertThat(c.getResources().getRequests().get("memory").toString()).isEqualTo("1073741824");
        assertThat(c.getResources().getLimits().get("nvidia.com/gpu").toString()).isEqualTo("1");
        assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(300);
        // The same inputs give the same objects, field for field (what render's golden files rely on).
        assertThat(WorkloadObjects.yaml(List.of(pod))).isEqualTo(WorkloadObjects.yaml(List.of(pod(spec, Placement.defaults().inNamespace("team-a")
                .withImagePullPolicy("IfNotPresent").withLabels(Map.of(CapstanLabels.RUN, "run-1", CapstanLabels.TASK, "train", CapstanLabels.ATTEMPT, "2"))))));
    }

    @Test
    void cpuFractionsBecomeMillicores() {
        assertThat(WorkloadObjects.cpu(0.25).toString()).isEqualTo("250m");
        assertThat(WorkloadObjects.cpu(1.5).toString()).isEqualTo("1500m");
        assertThat(WorkloadObjects.cpu(4).toString()).isEqualTo("4");
    }
}
