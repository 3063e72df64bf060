package io.capstan.backend.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Container images for tests, built offline: a root filesystem holding Debian's static busybox (as {@code /bin/sh},
 * {@code cat}, {@code sleep}, ...) plus the given files, imported into Podman under a tag that is a hash of its
 * content, so a second build is one {@code podman image exists}. {@code /lib} and {@code /lib64} point into
 * {@code /usr}, so a test that mounts the host's {@code /usr} read-only gets the host's python3 (and torch) inside.
 *
 * <p>A test that needs containers calls {@link #require}: without a working Podman it fails under {@code CI=true},
 * so CI never passes by skipping, and is skipped elsewhere. The engine reads {@code CAPSTAN_CONTAINER_ARGS} and
 * {@code CONTAINERS_CONF} from the environment, as the server does (see {@code .ci/run}).
 */
public final class TestImages {
    private static final Path BUSYBOX = Path.of("/usr/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "cat", "echo", "sleep", "ls", "env", "printf", "test", "mkdir", "pwd", "hostname", "wc", "head");

    private TestImages() {
    }

    /** Fails under CI, skips elsewhere, unless podman can run a busybox container here. */
    public static void require() {
        String why = null;
        if (!Files.isExecutable(BUSYBOX)) why = "no " + BUSYBOX + " (apt-get install busybox-static)";
        else if (podman().isEmpty()) why = "podman is not installed (apt-get install podman runc)";
        else {
            try {
                var image = image("probe", Map.of());
                var r = run(List.of("run", "--rm", "--network", "host", image, "/bin/true"));
                if (r.code() != 0) why = "podman cannot run a container here (set CAPSTAN_CONTAINER_ARGS and CONTAINERS_CONF as .ci/run does): " + r.output();
            } catch (IOException e) {
                why = e.getMessage();
            }
        }
        if (why == null) return;
        if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionError("CI=true and containers cannot run: " + why);
        System.err.println("WARNING: skipping a container test: " + why);
        Assumptions.abort(why);
    }

    /**
     * A busybox image with {@code files} (absolute path inside the image to content; paths ending in {@code .sh}
     * are executable), imported once as {@code localhost/capstan-test-<name>:<hash>}.
     */
    public static String image(String name, Map<String, String> files) throws IOException {
        return image(name, files, List.of());
    }

    /**
     * As {@link #image(String, Map)}, with Dockerfile instructions applied on import ({@code podman import --change}),
     * for example {@code ENTRYPOINT ["/usr/bin/python3", "/opt/model.py"]} or {@code ENV PYTHONPATH=/opt/lib}.
     */
    public static String image(String name, Map<String, String> files, List<String> changes) throws IOException {
        var sorted = new TreeMap<>(files);
        String tag;
        try {
            var md = MessageDigest.getInstance("SHA-256");
            md.update(Files.readAllBytes(BUSYBOX));
            sorted.forEach((k, v) -> md.update((k + "\0" + v + "\0").getBytes(StandardCharsets.UTF_8)));
            changes.forEach(c -> md.update(("change\0" + c + "\0").getBytes(StandardCharsets.UTF_8)));
            tag = HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        var image = "localhost/capstan-test-" + name + ":" + tag;
        if (run(List.of("image", "exists", image)).code() == 0) return image;
        var root = Files.createTempDirectory("capstan-rootfs");
        try {
            Files.createDirectories(root.resolve("bin"));
            Files.copy(BUSYBOX, root.resolve("bin/busybox"));
            Files.setPosixFilePermissions(root.resolve("bin/busybox"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            for (var a : APPLETS) Files.createSymbolicLink(root.resolve("bin").resolve(a), Path.of("busybox"));
            Files.createSymbolicLink(root.resolve("bin/true"), Path.of("busybox"));
            for (var d : List.of("usr", "etc", "tmp", "proc", "sys", "dev")) Files.createDirectories(root.resolve(d));
            Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
            Files.createSymbolicLink(root.resolve("lib64"), Path.of("usr/lib64"));
            for (var f : sorted.entrySet()) {
                var p = root.resolve(f.getKey().replaceFirst("^/+", ""));
                Files.createDirectories(p.getParent());
                Files.writeString(p, f.getValue());
                if (f.getKey().endsWith(".sh")) Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            var tar = Files.createTempFile("capstan-rootfs", ".tar");
            try {
                var t = new ProcessBuilder("tar", "-C", root.toString(), "-cf", tar.toString(), ".").redirectErrorStream(true).start();
                if (!t.waitFor(60, TimeUnit.SECONDS) || t.exitValue() != 0) throw new IOException("tar failed: " + new String(t.getInputStream().readAllBytes()));
                var importArgs = new java.util.ArrayList<>(List.of("import"));
                for (var c : changes) importArgs.addAll(List.of("--change", c));
                importArgs.addAll(List.of(tar.toString(), image));
                var r = run(importArgs);
                if (r.code() != 0) throw new IOException("podman import failed: " + r.output());
            } finally {
                Files.deleteIfExists(tar);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            try (var walk = Files.walk(root)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return image;
    }

    /** The names of the containers labelled with {@code workloadId}, running or not. */
    public static List<String> containersOf(String workloadId) throws IOException {
        var r = run(List.of("ps", "-a", "--filter", "label=io.capstan.workload=" + workloadId, "--format", "{{.Names}}"));
        if (r.code() != 0) throw new IOException(r.output());
        return r.output().lines().filter(s -> !s.isBlank()).toList();
    }

    /** The running containers labelled with {@code workloadId}. */
    public static List<String> runningContainersOf(String workloadId) throws IOException {
        var r = run(List.of("ps", "--filter", "label=io.capstan.workload=" + workloadId, "--format", "{{.Names}}"));
        if (r.code() != 0) throw new IOException(r.output());
        return r.output().lines().filter(s -> !s.isBlank()).toList();
    }

    public record Result(int code, String output) {
    }

    /** Runs podman with {@code CAPSTAN_CONTAINER_ARGS} first, as the backend does. */
    public static Result run(List<String> args) throws IOException {
        var argv = new java.util.ArrayList<String>();
        argv.add(podman().orElseThrow(() -> new IOException("podman is not installed")).toString());
        for (var a : System.getenv().getOrDefault("CAPSTAN_CONTAINER_ARGS", "").trim().split("\\s+")) if (!a.isEmpty()) argv.add(a);
        argv.addAll(args);
        try {
            var p = new ProcessBuilder(argv).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return new Result(p.exitValue(), out.strip());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static java.util.Optional<Path> podman() {
        for (var dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            var p = Path.of(dir.isEmpty() ? "." : dir, "podman");
            if (Files.isExecutable(p)) return java.util.Optional.of(p);
        }
        return java.util.Optional.empty();
    }
}
