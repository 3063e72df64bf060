package io.capstan.core.quota;

/**
 * What a workload, a gang or a namespace takes from a quota: CPUs in millicores (so that fractional requests add up
 * without drift), memory in bytes, GPUs and pods. A workload counts as one pod; one without requests counts as 0 CPU
 * and 0 memory but still one pod.
 */
public record QuotaUsage(long millicpus, long memoryBytes, long gpuCount, long pods) {
    public static final QuotaUsage ZERO = new QuotaUsage(0, 0, 0, 0);

    public QuotaUsage {
        if (millicpus < 0 || memoryBytes < 0 || gpuCount < 0 || pods < 0) {
            throw new IllegalArgumentException("quota usage must not be negative: millicpus=%d, memoryBytes=%d, gpuCount=%d, pods=%d"
                    .formatted(millicpus, memoryBytes, gpuCount, pods));
        }
    }

    /** One pod asking {@code cpus} (fractions allowed), {@code memoryBytes} and {@code gpuCount}. */
    public static QuotaUsage ofPod(double cpus, long memoryBytes, int gpuCount) {
        return new QuotaUsage(Math.round(cpus * 1000), memoryBytes, gpuCount, 1);
    }

    public QuotaUsage plus(QuotaUsage o) {
        return new QuotaUsage(millicpus + o.millicpus, memoryBytes + o.memoryBytes, gpuCount + o.gpuCount, pods + o.pods);
    }

    public QuotaUsage minus(QuotaUsage o) {
        return new QuotaUsage(Math.max(0, millicpus - o.millicpus), Math.max(0, memoryBytes - o.memoryBytes),
                Math.max(0, gpuCount - o.gpuCount), Math.max(0, pods - o.pods));
    }

    /** This usage of {@code resource}, in the unit {@link ResourceQuota} keeps its hard limit in. */
    long of(QuotaResource resource) {
        return switch (resource) {
            case REQUESTS_CPU, LIMITS_CPU -> millicpus;
            case REQUESTS_MEMORY, LIMITS_MEMORY -> memoryBytes;
            case REQUESTS_GPU -> gpuCount;
            case PODS -> pods;
        };
    }
}
