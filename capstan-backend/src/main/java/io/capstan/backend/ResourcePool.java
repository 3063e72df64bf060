package io.capstan.backend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The machine's CPUs, memory and GPUs, and who holds what. Not thread-safe: {@link LocalBackend} guards it with its
 * lock. CPUs are counted in millicores so that fractional requests add up without rounding drift.
 */
final class ResourcePool {
    private final long capacityMillicpus;
    private final long capacityMemoryBytes;
    private final List<Integer> gpus;
    private final Map<String, Allocation> allocations = new HashMap<>();
    // Sums over allocations, kept as they change: a launch must not cost a pass over every running workload.
    private long usedMillicpus;
    private long usedMemoryBytes;
    private int gpuHolders;

    record Allocation(long millicpus, long memoryBytes, List<Integer> gpus) {
    }

    ResourcePool(double cpus, long memoryBytes, List<Integer> gpus) {
        this.capacityMillicpus = millis(cpus);
        this.capacityMemoryBytes = memoryBytes;
        this.gpus = List.copyOf(gpus);
    }

    List<Integer> gpus() {
        return gpus;
    }

    /** Why {@code r} can never be admitted on this machine, even when it is idle; {@code subject} is what asks, such as {@code workload 'x'}. */
    Optional<String> neverFits(String subject, ResourceRequest r) {
        if (millis(r.cpus()) > capacityMillicpus) {
            return Optional.of("%s requests %s cpus but this machine has %s; lower requests.cpus to at most %s or run it on Kubernetes"
                    .formatted(subject, r.cpus(), capacityMillicpus / 1000.0, capacityMillicpus / 1000.0));
        }
        if (r.memoryBytes() > capacityMemoryBytes) {
            return Optional.of("%s requests %d bytes of memory but this machine has %d; lower requests.memory or run it on Kubernetes"
                    .formatted(subject, r.memoryBytes(), capacityMemoryBytes));
        }
        if (r.gpuCount() > gpus.size()) {
            return Optional.of("%s requests %d GPUs but this machine has %d; lower requests.gpus or run it on a machine with more GPUs"
                    .formatted(subject, r.gpuCount(), gpus.size()));
        }
        return Optional.empty();
    }

    boolean fits(ResourceRequest r) {
        long cpu = millis(r.cpus());
        boolean cpuFits = cpu == 0 || usedMillicpus() + cpu <= capacityMillicpus;
        boolean memFits = r.memoryBytes() == 0 || usedMemoryBytes() + r.memoryBytes() <= capacityMemoryBytes;
        boolean gpuFits = r.gpuCount() == 0 || freeGpus().size() >= r.gpuCount();
        return cpuFits && memFits && gpuFits;
    }

    /** Takes the resources for {@code id}; the caller has checked {@link #fits}. Returns the GPU indices handed out. */
    List<Integer> allocate(String id, ResourceRequest r) {
        List<Integer> chosen = r.gpuCount() == 0 ? List.of() : freeGpus().stream().limit(r.gpuCount()).toList();
        put(id, new Allocation(millis(r.cpus()), r.memoryBytes(), chosen));
        return chosen;
    }

    /** Records resources that a re-adopted workload already holds; may exceed capacity if the machine shrank. */
    void adopt(String id, ResourceRequest r, List<Integer> heldGpus) {
        put(id, new Allocation(millis(r.cpus()), r.memoryBytes(), List.copyOf(heldGpus)));
    }

    void release(String id) {
        account(allocations.remove(id), -1);
    }

    private void put(String id, Allocation a) {
        account(allocations.put(id, a), -1);
        account(a, 1);
    }

    private void account(Allocation a, int sign) {
        if (a == null) return;
        usedMillicpus += sign * a.millicpus();
        usedMemoryBytes += sign * a.memoryBytes();
        if (!a.gpus().isEmpty()) gpuHolders += sign;
    }

    private List<Integer> freeGpus() {
        var free = new TreeSet<>(gpus);
        if (gpuHolders > 0) allocations.values().forEach(a -> a.gpus().forEach(free::remove));
        return new ArrayList<>(free);
    }

    private long usedMillicpus() {
        return usedMillicpus;
    }

    private long usedMemoryBytes() {
        return usedMemoryBytes;
    }

    private static long millis(double cpus) {
        return Math.round(cpus * 1000);
    }
}
