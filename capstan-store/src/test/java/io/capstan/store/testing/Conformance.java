package io.capstan.store.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/**
 * Kubeflow's own test data, read in place from {@code <clone>/../shared/conformance} and never copied into the
 * repository; {@code -Dcapstan.conformance.dir=DIR} (or {@code CAPSTAN_CONFORMANCE_DIR}) points elsewhere, such as
 * from a git worktree that is not beside {@code shared}.
 *
 * <p>A test that needs a part of it calls {@link #require}. When that part is missing, the test fails under
 * {@code CI=true}, so that CI never passes by skipping; elsewhere it is skipped, with a warning on stderr that
 * names the missing path.
 */
public final class Conformance {
    public static final String DIR_PROPERTY = "capstan.conformance.dir";
    public static final String DIR_VARIABLE = "CAPSTAN_CONFORMANCE_DIR";
    private static final Set<Path> WARNED = ConcurrentHashMap.newKeySet();

    private Conformance() {
    }

    /** The corpus folder: the property, else the variable, else {@code ../shared/conformance} beside the clone. */
    public static Path root() {
        var configured = System.getProperty(DIR_PROPERTY, "").trim();
        if (configured.isEmpty()) configured = System.getenv().getOrDefault(DIR_VARIABLE, "").trim();
        if (!configured.isEmpty()) return Path.of(configured).toAbsolutePath().normalize();
        // Surefire runs a module's tests in the module's folder, whose parent is the clone.
        return Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent()
                .resolveSibling("shared").resolve("conformance").normalize();
    }

    /** {@code relative} under {@link #root()}, whether or not it exists. */
    public static Path path(String relative) {
        return root().resolve(relative).normalize();
    }

    /** Whether {@code path} exists; no warning, for test data sources that must not throw. */
    public static boolean present(Path path) {
        return Files.exists(path);
    }

    /** {@link #path(String)}, {@linkplain #require(Path) required}. */
    public static Path require(String relative) {
        return require(path(relative));
    }

    /**
     * Returns {@code path} if it exists. Otherwise it fails the calling test under {@code CI=true}, and skips it
     * elsewhere after a warning on stderr (once per path).
     */
    public static Path require(Path path) {
        if (Files.exists(path)) return path;
        var message = "the conformance corpus is missing at " + path + "; it lives in ../shared/conformance beside the clone"
                + " (or set -D" + DIR_PROPERTY + "=DIR or " + DIR_VARIABLE + ")";
        if (isCi()) throw new AssertionError("CI=true and " + message);
        if (WARNED.add(path)) System.err.println("WARNING: conformance tests skipped: " + message);
        return Assumptions.abort(message);
    }

    static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }
}
