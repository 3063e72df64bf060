package io.capstan.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU utilisation per job from nvidia-smi's CSV (the format of {@code --query-gpu=index,utilization.gpu,memory.used
 * --format=csv,noheader[,nounits]}). This machine has no GPU: an executable named nvidia-smi on a PATH of the test's
 * own prints that format, and without one there is no series at all.
 */
class GpuUtilizationTest {
    @TempDir
    Path dir;

    @Test
    void parsesNvidiaSmisCsvWithAndWithoutUnitsAndLeavesOutGpusWithoutFigures() {
        assertThat(GpuUtilization.parse("0, 87 %, 40536 MiB\n1, 0 %, 4 MiB\n")).containsExactly(
                new GpuUtilization.Sample(0, 87, 40536), new GpuUtilization.Sample(1, 0, 4));
        assertThat(GpuUtilization.parse("0, 87, 40536\n1, [N/A], [N/A]\n2, [Not Supported], 12\n")).containsExactly(
                new GpuUtilization.Sample(0, 87, 40536));
        assertThatIllegalArgumentException().isThrownBy(() -> GpuUtilization.parse("No devices were found"));
        assertThatIllegalArgumentException().isThrownBy(() -> GpuUtilization.parse("0, high, 3"));
    }

    private Path nvidiaSmi(String script) throws Exception {
        var bin = Files.createDirectories(dir.resolve("bin-" + script.hashCode()));
        var program = bin.resolve("nvidia-smi");
        Files.writeString(program, "#!/bin/sh\n" + script + "\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    @Test
    void eachRunningJobGetsTheMeanUtilisationAndMemoryOfItsGpus() throws Exception {
        // checks the query it is given, as nvidia-smi would refuse an unknown one
        var bin = nvidiaSmi("""
                [ "$1" = "--query-gpu=index,utilization.gpu,memory.used" ] && [ "$2" = "--format=csv,noheader,nounits" ] || exit 6
                printf '0, 80, 1024\\n1, 40, 2048\\n2, 5, 10\\n3, [N/A], [N/A]\\n'""");
        var meters = new SimpleMeterRegistry();
        var gpus = new GpuUtilization(meters, () -> Map.of("train-a", List.of(0, 1), "train-b", List.of(2), "train-c", List.of(3), "cpu-only", List.of()),
                () -> GpuUtilization.query(bin.toString(), Duration.ofSeconds(10)));
        gpus.refresh();
        assertThat(meters.get("capstan.gpu.utilization.ratio").tag("job", "train-a").gauge().value()).isEqualTo(0.6);
        assertThat(meters.get("capstan.gpu.utilization.ratio").tag("job", "train-b").gauge().value()).isEqualTo(0.05);
        assertThat(meters.get("capstan.gpu.memory.used.bytes").tag("job", "train-a").gauge().value()).isEqualTo(3072.0 * 1024 * 1024);
        // a GPU without figures, and a job without GPUs: no series rather than a made-up 0
        assertThat(meters.find("capstan.gpu.utilization.ratio").tag("job", "train-c").gauge()).isNull();
        assertThat(meters.find("capstan.gpu.utilization.ratio").tag("job", "cpu-only").gauge()).isNull();
    }

    @Test
    void withoutNvidiaSmiOrWhenItFailsThereIsNoSeries() throws Exception {
        var meters = new SimpleMeterRegistry();
        var path = new java.util.concurrent.atomic.AtomicReference<>(nvidiaSmi("printf '0, 80, 1024\\n'").toString());
        var deadline = new java.util.concurrent.atomic.AtomicReference<>(Duration.ofSeconds(10));
        var gpus = new GpuUtilization(meters, () -> Map.of("train-a", List.of(0)), () -> GpuUtilization.query(path.get(), deadline.get()));
        gpus.refresh();
        assertThat(meters.get("capstan.gpu.utilization.ratio").tag("job", "train-a").gauge().value()).isEqualTo(0.8);

        path.set(dir.resolve("empty").toString());
        assertThat(GpuUtilization.query(path.get(), Duration.ofSeconds(10))).isEmpty();
        gpus.refresh();
        assertThat(meters.find("capstan.gpu.utilization.ratio").gauges()).as("the job's series is gone, not stale").isEmpty();

        path.set(nvidiaSmi("echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'; exit 9").toString());
        assertThat(GpuUtilization.query(path.get(), Duration.ofSeconds(10))).isEmpty();
        path.set(nvidiaSmi("sleep 30").toString());
        assertThat(GpuUtilization.query(path.get(), Duration.ofMillis(300))).as("killed at its deadline").isEmpty();
        // The same hang through refresh(), with the same short deadline: 10 s would be spent waiting for nothing.
        deadline.set(Duration.ofMillis(300));
        gpus.refresh();
        assertThat(meters.find("capstan.gpu.utilization.ratio").gauges()).isEmpty();
        assertThat(meters.find("capstan.gpu.memory.used.bytes").gauges()).isEmpty();
    }
}
