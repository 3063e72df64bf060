package io.capstan.backend;

/** Resources a workload needs. {@code cpus} may be fractional, as Kubernetes' millicores are. */
public record ResourceRequest(double cpus, long memoryBytes, int gpuCount) {
    public static final ResourceRequest NONE = new ResourceRequest(0, 0, 0);

    public ResourceRequest {
        if (cpus < 0 || memoryBytes < 0 || gpuCount < 0) {
            throw io.capstan.core.InvalidSpecException.of("resources", "resource requests must not be negative: cpus=" + cpus + ", memoryBytes=" + memoryBytes + ", gpuCount=" + gpuCount);
        }
    }
}
