package io.capstan.training;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Python interpreter with torch for the distributed tests: Debian's /usr/bin/python3 first, since python3 on
 * PATH may be a pyenv shim without packages. Outside CI a machine without torch skips the tests; with CI=true
 * it fails them, so that CI never passes by skipping.
 */
final class TorchPython {
    private static final List<String> CANDIDATES = List.of("/usr/bin/python3", "/usr/local/bin/python3");

    private TorchPython() {
    }

    static String require() {
        var found = find();
        if (found.isPresent()) return found.get();
        var message = "no python3 with torch among " + CANDIDATES + "; install python3-torch (Debian) to run the distributed torch tests";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new IllegalStateException("CI=true but " + message);
        Assumptions.abort(message);
        throw new AssertionError("unreachable");
    }

    static Optional<String> find() {
        for (var candidate : CANDIDATES) {
            if (!Files.isExecutable(Path.of(candidate))) continue;
            try {
                var p = new ProcessBuilder(candidate, "-c", "import torch.distributed").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    continue;
                }
                if (p.exitValue() == 0) return Optional.of(candidate);
            } catch (java.io.IOException e) {
                // Not runnable: try the next candidate.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** The test script, copied out of the classpath to {@code dir}. */
    static Path script(Path dir, String name) throws java.io.IOException {
        var target = dir.resolve(name);
        try (var in = TorchPython.class.getResourceAsStream("/torch/" + name)) {
            if (in == null) throw new java.io.FileNotFoundException("test resource /torch/" + name);
            Files.copy(in, target);
        }
        return target;
    }
}
