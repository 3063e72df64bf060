package io.capstan.training;

import io.capstan.backend.LocalBackend;
import io.capstan.backend.ResourceRequest;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the machine can give training gangs: the same CPUs, memory and GPUs its {@link LocalBackend} hands out.
 * Training jobs are admitted whole against it, so that a gang never half-starts while its other ranks queue.
 */
public record MachineCapacity(double cpus, long memoryBytes, int gpuCount) {
    public MachineCapacity {
        if (!(cpus > 0) || memoryBytes <= 0 || gpuCount < 0) {
            throw new IllegalArgumentException("capacity must be positive: cpus=" + cpus + ", memoryBytes=" + memoryBytes + ", gpuCount=" + gpuCount);
        }
    }

    /** The capacity a LocalBackend built from {@code options} schedules, with the GPUs it found. */
    public static MachineCapacity of(LocalBackend.Options options, List<Integer> gpus) {
        Objects.requireNonNull(options, "options");
        return new MachineCapacity(options.cpus(), options.memoryBytes(), gpus.size());
    }

    /** Why {@code gang} can never run here, even on an idle machine. */
    Optional<String> neverFits(ResourceRequest gang) {
        if (gang.gpuCount() > gpuCount) {
            return Optional.of("the job needs %d GPUs across its ranks but this machine has %d; lower nvidia.com/gpu or the number of ranks"
                    .formatted(gang.gpuCount(), gpuCount));
        }
        if (gang.cpus() > cpus + 1e-9) {
            return Optional.of("the job requests %s CPUs across its ranks but this machine has %s; lower resources.requests.cpu or the number of ranks"
                    .formatted(gang.cpus(), cpus));
        }
        if (gang.memoryBytes() > memoryBytes) {
            return Optional.of("the job requests %d bytes of memory across its ranks but this machine has %d; lower resources.requests.memory"
                    .formatted(gang.memoryBytes(), memoryBytes));
        }
        return Optional.empty();
    }

    /** Whether {@code gang} fits beside {@code held}, what admitted gangs already hold. */
    boolean fits(ResourceRequest gang, ResourceRequest held) {
        boolean cpu = gang.cpus() == 0 || held.cpus() + gang.cpus() <= cpus + 1e-9;
        boolean mem = gang.memoryBytes() == 0 || held.memoryBytes() + gang.memoryBytes() <= memoryBytes;
        boolean gpu = gang.gpuCount() == 0 || held.gpuCount() + gang.gpuCount() <= gpuCount;
        return cpu && mem && gpu;
    }
}
