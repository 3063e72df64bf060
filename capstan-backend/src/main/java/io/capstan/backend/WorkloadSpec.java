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
 * @param namespace  the namespace whose quota the workload is charged to (as one pod plus its requests); empty
 *                   means none, so that no quota applies
 * @param gang       the gang the workload belongs to: its members are admitted together or not at all
 */
public record WorkloadSpec(String id, List<String> command, Map<String, String> env, Optional<Path> workingDir,
                           ResourceRequest requests, Optional<Duration> timeout, int priority, Optional<String> image,
                           ContainerOptions container, Optional<String> namespace, Optional<Gang> gang) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    public WorkloadSpec {
        Objects.requireNonNull(id, "id");
        command = List.copyOf(command);
        env = Map.copyOf(env);
        Objects.requireNonNull(workingDir, "workingDir");
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(gang, "gang");
        Objects.requireNonNull(container, "container");
        if (command.isEmpty()) throw io.capstan.core.InvalidSpecException.of("command", "workload " + id + " has an empty command");
        if (!ID.matcher(id).matches()) {
            throw io.capstan.core.InvalidSpecException.of("id", "workload id '" + io.capstan.core.Names.printable(id) + "' must be 1-200 letters, digits, '.', '_' or '-'");
        }
    }

    /** A workload on the default container settings, charged to no namespace and in no gang. */
    public WorkloadSpec(String id, List<String> command, Map<String, String> env, Optional<Path> workingDir,
                        ResourceRequest requests, Optional<Duration> timeout, int priority, Optional<String> image) {
        this(id, command, env, workingDir, requests, timeout, priority, image, ContainerOptions.DEFAULT, Optional.empty(), Optional.empty());
    }

    /** A workload with these container settings, charged to no namespace and in no gang. */
    public WorkloadSpec(String id, List<String> command, Map<String, String> env, Optional<Path> workingDir,
                        ResourceRequest requests, Optional<Duration> timeout, int priority, Optional<String> image,
                        ContainerOptions container) {
        this(id, command, env, workingDir, requests, timeout, priority, image, container, Optional.empty(), Optional.empty());
    }

    /** A workload on the default container settings, charged to {@code namespace} and in {@code gang}. */
    public WorkloadSpec(String id, List<String> command, Map<String, String> env, Optional<Path> workingDir,
                        ResourceRequest requests, Optional<Duration> timeout, int priority, Optional<String> image,
                        Optional<String> namespace, Optional<Gang> gang) {
        this(id, command, env, workingDir, requests, timeout, priority, image, ContainerOptions.DEFAULT, namespace, gang);
    }

    public WorkloadSpec withContainer(ContainerOptions options) {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, image, options, namespace, gang);
    }

    public WorkloadSpec withImage(Optional<String> newImage) {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, newImage, container, namespace, gang);
    }

    /**
     * A gang: {@code size} workloads that start together or not at all, as the ranks of a distributed job must. The
     * backend admits the gang once all {@code size} members have been launched and their requests fit together.
     */
    public record Gang(String name, int size) {
        public Gang {
            Objects.requireNonNull(name, "name");
            if (size < 1) throw io.capstan.core.InvalidSpecException.of("gang.size", "gang '" + name + "' must have at least 1 member, got " + size);
        }
    }

    public static WorkloadSpec of(String id, List<String> command) {
        return new WorkloadSpec(id, command, Map.of(), Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.empty());
    }

    /** This spec charged to {@code ns}'s quota. */
    public WorkloadSpec withNamespace(String ns) {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, image, container, Optional.of(ns), gang);
    }

    /** This spec as a member of gang {@code name} of {@code size} members. */
    public WorkloadSpec withGang(String name, int size) {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, image, container, namespace, Optional.of(new Gang(name, size)));
    }
}
