package io.capstan.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.backend.ContainerOptions.Execution;
import io.capstan.backend.ContainerOptions.Mount;
import io.capstan.backend.ContainerOptions.PullPolicy;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The engine's argument building, without an engine: GPUs, env, mounts, pull policy, and the choice of runner. */
class ContainerRunnerTest {
    private static final WorkloadSpec SPEC = new WorkloadSpec("w-1", List.of("python3", "/opt/train.py", "--lr", "0.1"),
            Map.of("SECRET", "s3cr3t", "A", "1"), Optional.of(Path.of("/runs/r/a")), ResourceRequest.NONE, Optional.empty(), 0,
            Optional.of("ghcr.io/x/train:1.0"))
            .withContainer(new ContainerOptions(Execution.AUTO, Optional.empty(), List.of(new Mount(Path.of("/home/u/pvc"), "/mnt/data", true))));

    private static ContainerRunner runner(boolean gpus) {
        return new ContainerRunner(Execution.AUTO, Optional.empty(), gpus, Clock.systemUTC());
    }

    @Test
    void runArgsNameLabelMountEnvWithoutValuesAndTheEntrypoint() {
        var args = runner(false).runArgs(ContainerEngine.Kind.PODMAN, SPEC, "capstan-w-1", Path.of("/runs/r/a"), PullPolicy.IF_NOT_PRESENT, List.of());
        assertThat(args).containsExactly("run", "--rm", "--replace", "--name", "capstan-w-1", "--label", "io.capstan.workload=w-1",
                "--network", "host", "--pull", "missing", "-v", "/runs/r/a:/runs/r/a", "-w", "/runs/r/a", "-v", "/home/u/pvc:/mnt/data:ro",
                "-e", "A", "-e", "CAPSTAN_WORKLOAD_ID", "-e", "SECRET",
                "--entrypoint", "python3", "ghcr.io/x/train:1.0", "/opt/train.py", "--lr", "0.1");
        assertThat(String.join(" ", args)).doesNotContain("s3cr3t");
    }

    @Test
    void podmanGetsEachAssignedGpuByCdiAndDockerAGpusList() {
        assertThat(runner(true).gpuFlags(ContainerEngine.Kind.PODMAN, List.of(1, 3)))
                .containsExactly("--device", "nvidia.com/gpu=1", "--device", "nvidia.com/gpu=3");
        assertThat(runner(true).gpuFlags(ContainerEngine.Kind.DOCKER, List.of(1, 3))).containsExactly("--gpus", "\"device=1,3\"");
        var args = runner(true).runArgs(ContainerEngine.Kind.DOCKER, SPEC, "capstan-w-1", Path.of("/w"), PullPolicy.ALWAYS, List.of(2));
        assertThat(args).doesNotContain("--replace").containsSubsequence("--pull", "always").containsSubsequence("--gpus", "\"device=2\"");
        assertThat(runner(true).gpuFlags(ContainerEngine.Kind.PODMAN, List.of())).isEmpty();
        assertThat(runner(false).gpuFlags(ContainerEngine.Kind.PODMAN, List.of(0))).isEmpty();
    }

    @Test
    void pullPolicyDefaultsAsKubernetes() {
        assertThat(PullPolicy.defaultFor("busybox")).isEqualTo(PullPolicy.ALWAYS);
        assertThat(PullPolicy.defaultFor("busybox:latest")).isEqualTo(PullPolicy.ALWAYS);
        assertThat(PullPolicy.defaultFor("localhost:5000/busybox")).isEqualTo(PullPolicy.ALWAYS);
        assertThat(PullPolicy.defaultFor("localhost:5000/busybox:1.36")).isEqualTo(PullPolicy.IF_NOT_PRESENT);
        assertThat(PullPolicy.defaultFor("busybox@sha256:abc")).isEqualTo(PullPolicy.IF_NOT_PRESENT);
        assertThat(PullPolicy.parse("Never", "imagePullPolicy")).contains(PullPolicy.NEVER);
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> PullPolicy.parse("never", "spec.containers[0].imagePullPolicy"))
                .withMessageContaining("spec.containers[0].imagePullPolicy must be Always, IfNotPresent or Never, got 'never'");
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> Execution.parse("docker", "capstan.io/execution"))
                .withMessageContaining("capstan.io/execution must be auto, container or host, got 'docker'");
    }

    @Test
    void withoutAnEngineAutoRunsOnTheHostSayingWhyAndContainerFails() {
        var dir = new WorkloadDir(Path.of("/nonexistent"));
        var plan = runner(false).plan(SPEC, dir, Path.of("/w"), Map.of("PATH", "/bin"), List.of());
        assertThat(plan.argv()).isEqualTo(SPEC.command());
        assertThat(plan.container()).isEmpty();
        assertThat(plan.note()).isEqualTo("on the host: no container engine (podman or docker) is installed to run image ghcr.io/x/train:1.0");

        var forced = SPEC.withContainer(new ContainerOptions(Execution.CONTAINER, Optional.empty(), List.of()));
        assertThatExceptionOfType(PermanentFailureException.class).isThrownBy(() -> runner(false).plan(forced, dir, Path.of("/w"), Map.of(), List.of()))
                .withMessageContaining("must run image ghcr.io/x/train:1.0 in a container, but neither podman nor docker is on PATH");

        var host = SPEC.withContainer(new ContainerOptions(Execution.HOST, Optional.empty(), List.of()));
        assertThat(new ContainerRunner(Execution.CONTAINER, Optional.empty(), false, Clock.systemUTC()).plan(host, dir, Path.of("/w"), Map.of(), List.of()).note())
                .isEmpty();
    }

    @Test
    void containerSettingsSurviveTheSpecFile(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        var dir = new WorkloadDir(tmp);
        dir.writeSpec(SPEC);
        assertThat(dir.readSpec()).isEqualTo(SPEC);
        var plain = WorkloadSpec.of("w-2", List.of("true"));
        dir.writeSpec(plain);
        assertThat(dir.readSpec()).isEqualTo(plain);
    }
}
