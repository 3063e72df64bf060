package io.capstan.backend;

import io.capstan.backend.ContainerOptions.Execution;
import io.capstan.backend.ContainerOptions.PullPolicy;
import io.capstan.core.PermanentFailureException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Decides where a workload with an image runs and, for a container, turns its command into the engine's
 * {@code run}: the container is named {@code capstan-<id>} and labelled {@value ContainerEngine#WORKLOAD_LABEL}, runs
 * in the foreground (so the launch supervisor copies its output line by line and records its exit code as for any
 * process, and a {@code kill -9} of the server leaves it running to be re-adopted), on the host's network (ranks of a
 * gang reach each other at the addresses they would on the host), with the working directory and the spec's mounts at
 * the paths the command names, only the workload's own environment, and its GPUs passed through.
 *
 * <p>Where: the resource's {@code capstan.io/execution} wins over the server's {@code CAPSTAN_EXECUTION}
 * ({@code auto} by default). {@code auto} runs in a container when an engine is installed and the image is in its store
 * or can be pulled, else on the host with a note naming why; {@code container} fails the workload instead.
 */
final class ContainerRunner {
    /** How long an image that could not be had decides auto mode before the engine is asked again. */
    private static final Duration PULL_RETRY = Duration.ofMinutes(5);
    private static final Duration PULL_TIMEOUT = Duration.ofMinutes(30);

    /** What to start: the argv, the client's environment, the container's name if any, and a note for the status. */
    record Plan(List<String> argv, Map<String, String> env, Optional<String> container, String note) {
    }

    private final Execution serverDefault;
    private final Optional<ContainerEngine> engine;
    private final boolean machineHasGpus;
    private final Clock clock;
    /** Images found missing (or present but not pullable), when, and what auto mode then does. */
    private final Map<String, Unavailable> unavailable = new ConcurrentHashMap<>();

    ContainerRunner(Execution serverDefault, Optional<ContainerEngine> engine, boolean machineHasGpus, Clock clock) {
        this.serverDefault = serverDefault;
        this.engine = engine;
        this.machineHasGpus = machineHasGpus;
        this.clock = clock;
    }

    /** {@code CAPSTAN_EXECUTION} and the engine this environment has. */
    static ContainerRunner fromEnvironment(Map<String, String> env, boolean machineHasGpus, Clock clock) {
        var mode = Execution.parse(env.get("CAPSTAN_EXECUTION"), "CAPSTAN_EXECUTION");
        return new ContainerRunner(mode, mode == Execution.HOST ? Optional.empty() : ContainerEngine.detect(env), machineHasGpus, clock);
    }

    Optional<ContainerEngine> engine() {
        return engine;
    }

    /**
     * Where {@code spec} runs: the host command as it is, or the engine's {@code run}. {@code env} is the host
     * process's full environment, the spec's variables included.
     *
     * @throws PermanentFailureException when a container is required and cannot be had
     */
    Plan plan(WorkloadSpec spec, WorkloadDir dir, Path workDir, Map<String, String> env, List<Integer> gpus) {
        var host = new Plan(spec.command(), env, Optional.empty(), "");
        if (spec.image().isEmpty()) return host;
        String image = spec.image().get();
        var options = spec.container();
        var mode = options.execution() != Execution.AUTO ? options.execution() : serverDefault;
        if (mode == Execution.HOST) return host;
        var policy = options.pullPolicy().orElse(PullPolicy.defaultFor(image));
        if (engine.isEmpty()) {
            if (mode == Execution.CONTAINER) {
                throw new PermanentFailureException(("workload '%s' must run image %s in a container, but neither podman nor docker is on "
                        + "PATH; install Podman, or set %s: host").formatted(spec.id(), image, ContainerOptions.EXECUTION_ANNOTATION));
            }
            return withNote(host, "on the host: no container engine (podman or docker) is installed to run image " + image);
        }
        var e = engine.get();
        if (mode == Execution.AUTO) {
            var why = autoRefusal(e, image, policy, dir);
            if (why.isPresent()) return withNote(host, "on the host: " + why.get());
        }
        var name = containerName(spec.id());
        // Auto mode has already pulled, or chosen the local copy of an image it could not pull: the run must not pull.
        var runPolicy = mode == Execution.AUTO ? PullPolicy.NEVER : policy;
        var argv = e.command(runArgs(e.kind(), spec, name, workDir, runPolicy, gpus));
        var clientEnv = new LinkedHashMap<>(env);
        // The workload's environment holds only allowed variables; the client still needs the engine's own settings.
        e.clientSettings().forEach((k, v) -> {
            if (!spec.env().containsKey(k)) clientEnv.put(k, v);
        });
        clientEnv.put("CAPSTAN_WORKLOAD_ID", spec.id());
        return new Plan(argv, clientEnv, Optional.of(name), "in %s container %s (image %s)".formatted(e.name(), name, image));
    }

    private static Plan withNote(Plan p, String note) {
        return new Plan(p.argv(), p.env(), p.container(), note);
    }

    /**
     * Why auto mode keeps {@code image} off the engine, pulling it first when the policy asks; empty when it runs
     * there. An image that could not be had is remembered for {@link #PULL_RETRY}, so that a pipeline of many steps
     * asks the engine once, not per step.
     */
    private Optional<String> autoRefusal(ContainerEngine e, String image, PullPolicy policy, WorkloadDir dir) {
        var failedAt = unavailable.get(image);
        if (failedAt != null && clock.instant().isBefore(failedAt.when().plus(PULL_RETRY))) return failedAt.why();
        boolean present = e.imageExists(image);
        if (policy == PullPolicy.NEVER) {
            if (present) return Optional.empty();
            return remember(image, Optional.of("image %s is not in %s's store and imagePullPolicy is Never".formatted(image, e.name())));
        }
        if (present && policy == PullPolicy.IF_NOT_PRESENT) return Optional.empty();
        // A probe: its progress goes to the workload's log only when the image came, so a workload that runs on the
        // host instead does not log an engine's errors as its own; the status says why.
        var pullLog = dir.root().resolve("pull.log");
        var failure = e.pull(image, pullLog, PULL_TIMEOUT);
        if (failure.isEmpty()) {
            unavailable.remove(image);
            try {
                Files.writeString(dir.stderr(), Files.readString(pullLog), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException ex) {
                // the log of a pull that worked is only informative
            }
            return Optional.empty();
        }
        // Pulled with Always but unreachable: the copy in the store still runs, as the image the user asked for.
        return remember(image, present ? Optional.empty()
                : Optional.of("image %s is not in %s's store and could not be pulled: %s".formatted(image, e.name(), failure.get())));
    }

    private Optional<String> remember(String image, Optional<String> why) {
        unavailable.put(image, new Unavailable(clock.instant(), why));
        return why;
    }

    private record Unavailable(Instant when, Optional<String> why) {
    }

    static String containerName(String workloadId) {
        return "capstan-" + workloadId;
    }

    /** The engine's {@code run} arguments (after the binary and global flags); a pure function, for tests. */
    List<String> runArgs(ContainerEngine.Kind kind, WorkloadSpec spec, String name, Path workDir, PullPolicy policy, List<Integer> gpus) {
        var a = new ArrayList<String>(List.of("run", "--rm"));
        if (kind == ContainerEngine.Kind.PODMAN) a.add("--replace");
        a.addAll(List.of("--name", name, "--label", ContainerEngine.WORKLOAD_LABEL + "=" + spec.id(), "--network", "host",
                "--pull", switch (policy) {
                    case ALWAYS -> "always";
                    case IF_NOT_PRESENT -> "missing";
                    case NEVER -> "never";
                }));
        var wd = workDir.toAbsolutePath().normalize().toString();
        if (spec.container().workingDir().isPresent()) a.addAll(List.of("-w", spec.container().workingDir().get()));
        else a.addAll(List.of("-v", wd + ":" + wd, "-w", wd));
        for (var m : spec.container().mounts()) {
            a.addAll(List.of("-v", m.hostPath().toAbsolutePath().normalize() + ":" + m.containerPath() + (m.readOnly() ? ":ro" : "")));
        }
        var containerEnv = new LinkedHashMap<>(spec.env());
        containerEnv.put("CAPSTAN_WORKLOAD_ID", spec.id());
        a.addAll(ContainerEnv.flags(containerEnv));
        a.addAll(gpuFlags(kind, gpus));
        a.addAll(List.of("--entrypoint", spec.command().getFirst(), spec.image().orElseThrow()));
        a.addAll(spec.command().subList(1, spec.command().size()));
        return a;
    }

    /**
     * The assigned GPUs, and only those: Podman names them by CDI ({@code nvidia.com/gpu=N}, from
     * {@code nvidia-ctk cdi generate}), Docker with {@code --gpus "device=N,M"} (NVIDIA Container Toolkit).
     * Inside, they are numbered from 0, as on Kubernetes.
     */
    List<String> gpuFlags(ContainerEngine.Kind kind, List<Integer> gpus) {
        if (gpus.isEmpty() || !machineHasGpus) return List.of();
        if (kind == ContainerEngine.Kind.DOCKER) {
            return List.of("--gpus", "\"device=" + gpus.stream().map(String::valueOf).collect(Collectors.joining(",")) + "\"");
        }
        var flags = new ArrayList<String>();
        for (int g : gpus) {
            flags.add("--device");
            flags.add("nvidia.com/gpu=" + g);
        }
        return flags;
    }

    /** Stops and removes a workload's container, named in its folder; nothing when it ran on the host. */
    void stop(WorkloadDir dir, Duration grace) {
        var name = recordedContainer(dir);
        if (name.isPresent() && engine.isPresent()) engine.get().stopAndRemove(name.get(), grace);
    }

    /** Removes what is left of a workload's containers, found by label; for workloads whose client is gone. */
    void removeLeftovers(String workloadId, WorkloadDir dir) {
        if (engine.isEmpty() || recordedContainer(dir).isEmpty()) return;
        for (var name : engine.get().containersOf(workloadId)) engine.get().stopAndRemove(name, Duration.ZERO);
    }

    static Optional<String> recordedContainer(WorkloadDir dir) {
        try {
            return Files.exists(dir.containerFile()) ? Optional.of(Files.readString(dir.containerFile()).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
