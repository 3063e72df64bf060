package io.capstan.backend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Podman or Docker, driven through its command-line client. The CLI rather than a Java client: Podman has no
 * maintained Java client, docker-java speaks only to a Docker daemon socket (Podman's compatible socket needs a
 * service running), and the run itself must be a child process anyway, so that it survives a {@code kill -9} of the
 * server under the launch supervisor with its logs copied as every other workload's.
 *
 * <p>Found as {@code CAPSTAN_CONTAINER_ENGINE} (a name on PATH or a path), else {@code podman}, else {@code docker}.
 * {@code CAPSTAN_CONTAINER_ARGS} adds global flags before every command, for example
 * {@code --runtime runc --cgroup-manager cgroupfs}; the engine's own configuration ({@code CONTAINERS_CONF} for
 * Podman) is read from the server's environment, so Capstan never rewrites a machine's configuration.
 */
public final class ContainerEngine {
    /** The label every Capstan container carries, with its workload id. */
    public static final String WORKLOAD_LABEL = "io.capstan.workload";
    private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(30);

    enum Kind { PODMAN, DOCKER }

    private final Path binary;
    private final Kind kind;
    private final List<String> globalArgs;
    private final Map<String, String> env;

    ContainerEngine(Path binary, Kind kind, List<String> globalArgs, Map<String, String> env) {
        this.binary = binary;
        this.kind = kind;
        this.globalArgs = List.copyOf(globalArgs);
        this.env = Map.copyOf(env);
    }

    /** The engine this environment names or has on PATH; empty when there is none. */
    public static Optional<ContainerEngine> detect(Map<String, String> env) {
        String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        var args = Arrays.stream(env.getOrDefault("CAPSTAN_CONTAINER_ARGS", "").trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        var named = env.getOrDefault("CAPSTAN_CONTAINER_ENGINE", "").trim();
        List<String> candidates = named.isEmpty() ? List.of("podman", "docker") : List.of(named);
        for (var c : candidates) {
            var found = SessionLauncher.findOnPath(c, path, Path.of("/"));
            if (found.isPresent()) {
                var kind = found.get().getFileName().toString().toLowerCase(Locale.ROOT).contains("docker") ? Kind.DOCKER : Kind.PODMAN;
                return Optional.of(new ContainerEngine(found.get(), kind, args, env));
            }
        }
        return Optional.empty();
    }

    /**
     * The variables the engine's client reads for its own settings (Podman's containers.conf and storage, Docker's
     * daemon address), which the workload environment's allow-list leaves out. A container never sees them: it gets
     * only the workload's own variables.
     */
    static final java.util.Set<String> CLIENT_SETTINGS = java.util.Set.of("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF",
            "CONTAINERS_REGISTRIES_CONF", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
            "CONTAINER_HOST", "CONTAINER_CONNECTION", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT", "DOCKER_CERT_PATH",
            "DOCKER_TLS_VERIFY");

    /** The engine client's own settings from the server's environment; see {@link #CLIENT_SETTINGS}. */
    public Map<String, String> clientSettings() {
        var out = new java.util.TreeMap<String, String>();
        env.forEach((k, v) -> {
            if (CLIENT_SETTINGS.contains(k)) out.put(k, v);
        });
        return out;
    }

    /** {@code podman} or {@code docker}. */
    public String name() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    Kind kind() {
        return kind;
    }

    /** Whether {@code run --replace} is understood (Podman's; Docker has no such flag). */
    public boolean replaces() {
        return kind == Kind.PODMAN;
    }

    /** The client's argv for {@code args}, global flags first. */
    public List<String> command(List<String> args) {
        var argv = new ArrayList<String>();
        argv.add(binary.toString());
        argv.addAll(globalArgs);
        argv.addAll(args);
        return argv;
    }

    /** Whether the engine's store holds {@code image}. */
    public boolean imageExists(String image) {
        var r = run(kind == Kind.PODMAN ? List.of("image", "exists", image) : List.of("image", "inspect", "--format", "{{.Id}}", image), Optional.empty());
        return r.code == 0;
    }

    /** Pulls {@code image}, appending the engine's progress lines to {@code log}; returns the failure's last line. */
    public Optional<String> pull(String image, Path log, Duration timeout) {
        var r = run(List.of("pull", image), Optional.of(log), timeout);
        if (r.code == 0) return Optional.empty();
        var lines = r.output.strip().lines().toList();
        return Optional.of(lines.isEmpty() ? "exit code " + r.code : lines.getLast());
    }

    /** Stops the container (SIGTERM, SIGKILL after {@code grace}) and removes it; a missing one is fine. */
    public void stopAndRemove(String container, Duration grace) {
        run(List.of("stop", "-t", Long.toString(Math.max(0, grace.toSeconds())), container), Optional.empty(), grace.plus(QUERY_TIMEOUT));
        run(List.of("rm", "-f", container), Optional.empty());
    }

    /** The names of the containers, running or not, labelled with {@code workloadId}. */
    public List<String> containersOf(String workloadId) {
        var r = run(List.of("ps", "-a", "--filter", "label=" + WORKLOAD_LABEL + "=" + workloadId, "--format", "{{.Names}}"), Optional.empty());
        return r.code == 0 ? r.output.lines().map(String::strip).filter(s -> !s.isEmpty()).toList() : List.of();
    }

    /**
     * The containers, running or not, that carry {@code label}: each one's name and that label's value, tab-separated.
     */
    public List<String> containersLabelled(String label) {
        var r = run(List.of("ps", "-a", "--filter", "label=" + label, "--format", "{{.Names}}\t{{index .Labels \"" + label + "\"}}"),
                Optional.empty());
        return r.code == 0 ? r.output.lines().map(String::strip).filter(s -> !s.isEmpty()).toList() : List.of();
    }

    /** The images the engine holds, one line each: repository:tag, id and size, as {@code images} prints them. */
    public List<String> images() throws IOException {
        var r = run(List.of("images", "--format", "{{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}"), Optional.empty());
        if (r.code != 0) throw new IOException(name() + " images failed: " + r.output.strip());
        return r.output.lines().filter(s -> !s.isBlank()).toList();
    }

    record Result(int code, String output) {
    }

    private Result run(List<String> args, Optional<Path> log) {
        return run(args, log, QUERY_TIMEOUT);
    }

    private Result run(List<String> args, Optional<Path> log, Duration timeout) {
        var pb = new ProcessBuilder(command(args)).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        Path out = null;
        try {
            // A pull writes straight into the workload's log, so its progress shows while it runs.
            long from = log.isPresent() && Files.exists(log.get()) ? Files.size(log.get()) : 0;
            if (log.isEmpty()) out = Files.createTempFile("capstan-engine", ".out");
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.orElse(out).toFile()));
            var p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(-1, name() + " " + String.join(" ", args) + " took longer than " + timeout);
            }
            byte[] all = Files.readAllBytes(log.orElse(out));
            var text = new String(all, (int) Math.min(from, all.length), all.length - (int) Math.min(from, all.length), StandardCharsets.UTF_8);
            return new Result(p.exitValue(), text);
        } catch (IOException e) {
            return new Result(-1, "cannot run " + binary + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }
}
