package io.capstan.serving.python;

import io.capstan.backend.ContainerEngine;
import io.capstan.backend.ContainerEnv;
import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ContainerOptions.Execution;
import io.capstan.backend.ContainerOptions.PullPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs a model server's image through Podman or Docker, else its command on the host. In a container the server gets
 * KServe's contract as a pod would: the image's own entrypoint when the container gives no command (its
 * {@code command} and {@code args} when it does), the host's network (so it binds the {@code PORT} Capstan chose on
 * 127.0.0.1), the model folder read-only at {@code /mnt/models}, hostPath volumes, and only its own environment,
 * passed as {@code -e NAME} so no value shows on a command line. The container is named after the process and
 * labelled {@value ContainerEngine#WORKLOAD_LABEL}, runs in the foreground with {@code --rm --replace} (its output goes
 * to the process's log), and stopping the returned process stops and removes the container, not only the client.
 *
 * <p>Where: {@code capstan.io/execution} on the resource wins over the server's {@code CAPSTAN_EXECUTION}. {@code auto}
 * runs in a container when an engine is installed and the image is in its store or can be pulled (per
 * {@code imagePullPolicy}), else runs the command on the host, and refuses an image that has no command.
 */
public final class ContainerProcessLauncher implements ProcessLauncher {
    private static final System.Logger LOG = System.getLogger(ContainerProcessLauncher.class.getName());
    /** How long an image that could not be had decides auto mode before the engine is asked again. */
    private static final Duration PULL_RETRY = Duration.ofMinutes(5);
    private static final Duration PULL_TIMEOUT = Duration.ofMinutes(30);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    /** The value of {@value ContainerEngine#WORKLOAD_LABEL} on model-server containers starts with this. */
    public static final String LABEL_PREFIX = "serving-";
    /**
     * The label naming the Capstan server (its pid and start time) that started a model-server container: a container
     * outlives a server killed with -9, and the next server removes those whose server is gone.
     */
    public static final String OWNER_LABEL = "io.capstan.serving.owner";
    private static final String OWNER = owner(ProcessHandle.current());

    private final Execution serverDefault;
    private final Optional<ContainerEngine> engine;
    private final ProcessLauncher host;
    private final Clock clock;
    private final Map<String, Unavailable> unavailable = new ConcurrentHashMap<>();
    private volatile CompletableFuture<List<String>> orphansRemoved = CompletableFuture.completedFuture(List.of());

    private record Unavailable(Instant when, Optional<String> why) {
    }

    public ContainerProcessLauncher(Execution serverDefault, Optional<ContainerEngine> engine, ProcessLauncher host, Clock clock) {
        this.serverDefault = serverDefault;
        this.engine = engine;
        this.host = host;
        this.clock = clock;
    }

    /**
     * {@code CAPSTAN_EXECUTION} and the engine that {@code env} has, with host processes otherwise; model-server
     * containers left by a server that is gone are removed in the background, see {@link #orphansRemoved()}.
     */
    public static ContainerProcessLauncher fromEnvironment(Map<String, String> env) {
        var mode = Execution.parse(env.get("CAPSTAN_EXECUTION"), "CAPSTAN_EXECUTION");
        var launcher = new ContainerProcessLauncher(mode, mode == Execution.HOST ? Optional.empty() : ContainerEngine.detect(env),
                new HostProcessLauncher(), Clock.systemUTC());
        // Not on the server's start-up path: the engine's client takes from tens of milliseconds to seconds to answer,
        // and this server's own containers are never among those removed.
        if (launcher.engine.isPresent()) {
            launcher.orphansRemoved = CompletableFuture.supplyAsync(launcher::removeOrphans,
                    task -> Thread.ofVirtual().name("capstan-orphan-containers").start(task));
        }
        return launcher;
    }

    /** The names of the containers that {@link #fromEnvironment} removed, once it has. */
    public CompletableFuture<List<String>> orphansRemoved() {
        return orphansRemoved;
    }

    /** Removes the model-server containers whose Capstan server is no longer running; returns their names. */
    public List<String> removeOrphans() {
        if (engine.isEmpty()) return List.of();
        var removed = new ArrayList<String>();
        for (var line : engine.get().containersLabelled(OWNER_LABEL)) {
            var cells = line.split("\t", 2);
            if (cells.length < 2 || ownerAlive(cells[1].strip())) continue;
            engine.get().stopAndRemove(cells[0], Duration.ZERO);
            removed.add(cells[0]);
        }
        if (!removed.isEmpty()) {
            LOG.log(System.Logger.Level.INFO, "removed model-server containers whose Capstan server is gone: {0}", removed);
        }
        return removed;
    }

    /** "pid@startMillis": a pid alone could be reused by another process. */
    static String owner(ProcessHandle process) {
        return process.pid() + "@" + process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    private static boolean ownerAlive(String owner) {
        int at = owner.indexOf('@');
        if (at < 0) return true; // not ours to judge
        try {
            var process = ProcessHandle.of(Long.parseLong(owner.substring(0, at)));
            return process.isPresent() && process.get().isAlive() && owner(process.get()).equals(owner);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    /** Where a spec runs: in a container, or on the host with the reason it could not run in one (empty when by choice). */
    private record Placement(boolean container, Optional<String> why) {
    }

    private Placement place(ProcessSpec spec) {
        if (spec.image() == null) return new Placement(false, Optional.empty());
        var mode = spec.container().execution() != Execution.AUTO ? spec.container().execution() : serverDefault;
        if (mode == Execution.HOST) return new Placement(false, Optional.of(ContainerOptions.EXECUTION_ANNOTATION + " or CAPSTAN_EXECUTION is host"));
        if (mode == Execution.CONTAINER) return new Placement(true, Optional.empty());
        if (engine.isEmpty()) return new Placement(false, Optional.of("no container engine (podman or docker) is installed"));
        var why = autoRefusal(engine.get(), spec);
        return new Placement(why.isEmpty(), why);
    }

    @Override
    public boolean inContainer(ProcessSpec spec) {
        return place(spec).container();
    }

    @Override
    public Process launch(ProcessSpec spec) throws IOException {
        var placement = place(spec);
        if (!placement.container()) {
            if (spec.entrypoint()) {
                throw new EntrypointRefusedException("image " + spec.image() + " has no command to run on this machine and cannot run in a container: "
                        + placement.why().orElse("no container engine") + "; give the container a command that starts the model "
                        + "server on this machine, such as [python3, -m, model] (the kserve package is provided)");
            }
            return host.launch(spec);
        }
        if (engine.isEmpty()) {
            throw new IOException("image " + spec.image() + " must run in a container (" + ContainerOptions.EXECUTION_ANNOTATION
                    + ": container), but neither podman nor docker is on PATH; install Podman, or set " + ContainerOptions.EXECUTION_ANNOTATION
                    + ": host with a command");
        }
        var e = engine.get();
        var name = containerName(spec);
        var mode = spec.container().execution() != Execution.AUTO ? spec.container().execution() : serverDefault;
        // auto mode has pulled already, or chosen the local copy of an image it could not pull: the run must not pull
        var policy = mode == Execution.AUTO ? PullPolicy.NEVER
                : spec.container().pullPolicy().orElse(PullPolicy.defaultFor(spec.image()));
        var builder = new ProcessBuilder(e.command(runArgs(e.replaces(), spec, name, policy)));
        builder.environment().clear();
        builder.environment().putAll(System.getenv().entrySet().stream().filter(v -> v.getKey().equals("PATH") || v.getKey().equals("HOME"))
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        builder.environment().putAll(e.clientSettings());
        builder.environment().putAll(spec.env());
        builder.redirectErrorStream(true);
        builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Files.createDirectories(spec.log().getParent());
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()));
        LOG.log(System.Logger.Level.INFO, "{0} runs in {1} container {2} (image {3})", spec.name(), e.name(), name, spec.image());
        return new ContainerProcess(builder.start(), e, name);
    }

    /** A name unique to the supervised process (its log file's), kept across its restarts so that --replace finds it. */
    static String containerName(ProcessSpec spec) {
        var stem = spec.log().getFileName().toString().replaceFirst("\\.log$", "");
        return "capstan-" + LABEL_PREFIX + stem.replaceAll("[^a-zA-Z0-9_.-]", "-");
    }

    /** The engine's {@code run} arguments (after the binary and global flags). */
    static List<String> runArgs(boolean replace, ProcessSpec spec, String name, PullPolicy policy) {
        var a = new ArrayList<String>(List.of("run", "--rm"));
        if (replace) a.add("--replace");
        a.addAll(List.of("--name", name, "--label", ContainerEngine.WORKLOAD_LABEL + "=" + name.substring("capstan-".length()),
                "--label", OWNER_LABEL + "=" + OWNER,
                "--network", "host", "--pull", switch (policy) {
                    case ALWAYS -> "always";
                    case IF_NOT_PRESENT -> "missing";
                    case NEVER -> "never";
                }));
        if (spec.modelDir() != null) {
            a.addAll(List.of("-v", spec.modelDir().toAbsolutePath().normalize() + ":" + ProcessSpec.MODEL_MOUNT + ":ro"));
        }
        for (var m : spec.container().mounts()) {
            a.addAll(List.of("-v", m.hostPath().toAbsolutePath().normalize() + ":" + m.containerPath() + (m.readOnly() ? ":ro" : "")));
        }
        if (spec.workingDir() != null) a.addAll(List.of("-w", spec.workingDir().toString()));
        a.addAll(ContainerEnv.flags(spec.env()));
        if (!spec.entrypoint()) a.addAll(List.of("--entrypoint", spec.command().getFirst()));
        a.add(spec.image());
        a.addAll(spec.entrypoint() ? spec.command() : spec.command().subList(1, spec.command().size()));
        return a;
    }

    /**
     * Why auto mode keeps the image off the engine, pulling it first when its policy asks; empty when it runs there.
     * An image that could not be had is remembered for {@link #PULL_RETRY}, so replicas and restarts ask once.
     */
    private Optional<String> autoRefusal(ContainerEngine e, ProcessSpec spec) {
        var image = spec.image();
        var failedAt = unavailable.get(image);
        if (failedAt != null && clock.instant().isBefore(failedAt.when().plus(PULL_RETRY))) return failedAt.why();
        var policy = spec.container().pullPolicy().orElse(PullPolicy.defaultFor(image));
        boolean present = e.imageExists(image);
        if (policy == PullPolicy.NEVER) {
            if (present) return Optional.empty();
            return remember(image, Optional.of("image %s is not in %s's store and imagePullPolicy is Never".formatted(image, e.name())));
        }
        if (present && policy == PullPolicy.IF_NOT_PRESENT) return Optional.empty();
        // a probe: its progress reaches the process's log only when the image came, so a server that runs on the host
        // instead does not show an engine's errors as its own
        var pullLog = spec.log().resolveSibling(spec.log().getFileName() + ".pull");
        Optional<String> failure;
        try {
            Files.createDirectories(pullLog.getParent());
            failure = e.pull(image, pullLog, PULL_TIMEOUT);
            if (failure.isEmpty()) Files.write(spec.log(), Files.readAllBytes(pullLog), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            Files.deleteIfExists(pullLog);
        } catch (IOException ex) {
            failure = Optional.of(ex.getMessage());
        }
        if (failure.isEmpty()) {
            unavailable.remove(image);
            return Optional.empty();
        }
        // pulled with Always but unreachable: the copy in the store still runs, as the image the user asked for
        return remember(image, present ? Optional.empty()
                : Optional.of("image %s is not in %s's store and could not be pulled: %s".formatted(image, e.name(), failure.get())));
    }

    private Optional<String> remember(String image, Optional<String> why) {
        unavailable.put(image, new Unavailable(clock.instant(), why));
        return why;
    }

    /** The engine's client for one container; destroying it stops and removes the container first. */
    private static final class ContainerProcess extends Process {
        private final Process client;
        private final ContainerEngine engine;
        private final String name;

        ContainerProcess(Process client, ContainerEngine engine, String name) {
            this.client = client;
            this.engine = engine;
            this.name = name;
        }

        @Override
        public OutputStream getOutputStream() {
            return client.getOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return client.getInputStream();
        }

        @Override
        public InputStream getErrorStream() {
            return client.getErrorStream();
        }

        @Override
        public int waitFor() throws InterruptedException {
            return client.waitFor();
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
            return client.waitFor(timeout, unit);
        }

        @Override
        public int exitValue() {
            return client.exitValue();
        }

        @Override
        public boolean isAlive() {
            return client.isAlive();
        }

        @Override
        public long pid() {
            return client.pid();
        }

        @Override
        public ProcessHandle toHandle() {
            return client.toHandle();
        }

        @Override
        public CompletableFuture<Process> onExit() {
            return client.onExit().thenApply(p -> this);
        }

        @Override
        public void destroy() {
            engine.stopAndRemove(name, STOP_GRACE);
            client.destroy();
        }

        @Override
        public Process destroyForcibly() {
            engine.stopAndRemove(name, Duration.ZERO);
            client.destroyForcibly();
            return this;
        }
    }
}
