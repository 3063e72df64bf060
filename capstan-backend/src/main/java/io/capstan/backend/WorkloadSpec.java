package io.capstan.backend;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What to run. The same spec becomes a child process locally and a Pod in Kubernetes.
 *
 * @param id         unique, stable id chosen by the caller (for example the owning resource's uid plus a suffix)
 * @param command    program and arguments; never run through a shell unless the command itself is a shell
 * @param env        extra environment variables
 * @param workingDir where to run; empty means a fresh folder the backend owns
 * @param requests   CPU, memory and GPUs the workload needs to be admitted
 * @param timeout    wall-clock limit after which the workload is killed and fails; empty means none
 * @param priority   higher runs first when workloads queue for resources
 * @param image      the container image: the Kubernetes backend's Pod runs it, the local backend runs it through
 *                   Podman or Docker when {@code container} and {@code CAPSTAN_EXECUTION} let it, else on the host
 * @param container  local container settings: where to run, pull policy, extra mounts
 */
public record WorkloadSpec(String id, List<String> command, Map<String, String> env, Optional<Path> workingDir,
                           ResourceRequest requests, Optional<Duration> timeout, int priority, Optional<String> image,
                           ContainerOptions container) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    public WorkloadSpec {
        Objects.requireNonNull(id, "id");
        command = List.copyOf(command);
        env = Map.copyOf(env);
        Objects.requireNonNull(workingDir, "workingDir");
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(container, "container");
        if (command.isEmpty()) throw io.capstan.core.InvalidSpecException.of("command", "workload " + id + " has an empty command");
        if (!ID.matcher(id).matches()) {
            throw io.capstan.core.InvalidSpecException.of("id", "workload id '" + io.capstan.core.Names.printable(id) + "' must be 1-200 letters, digits, '.', '_' or '-'");
        }
    }

    public WorkloadSpec(String id, List<String> command, Map<String, String> env, Optional<Path> workingDir,
                        ResourceRequest requests, Optional<Duration> timeout, int priority, Optional<String> image) {
        this(id, command, env, workingDir, requests, timeout, priority, image, ContainerOptions.DEFAULT);
    }

    public WorkloadSpec withContainer(ContainerOptions options) {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, image, options);
    }

    public WorkloadSpec withImage(Optional<String> newImage) {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, newImage, container);
    }

    public static WorkloadSpec of(String id, List<String> command) {
        return new WorkloadSpec(id, command, Map.of(), Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.empty());
    }
}
