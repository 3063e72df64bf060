package io.capstan.kfpruntime;

import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Capstan's own implementation of the KFP v2 Python component runtime ({@code kfp.dsl} and
 * {@code python3 -m kfp.dsl.executor_main}), shipped as Python sources on the classpath.
 *
 * <p>{@link #install(Path)} writes the sources to disk so that a step's {@code python3} can import them.
 */
public final class KfpRuntime {
    static final String RESOURCE_ROOT = "/io/capstan/kfpruntime/python/";
    static final String INDEX = "FILES";

    private KfpRuntime() {
    }

    /**
     * Extracts the runtime into {@code dir/<version>/} unless it is there already, and returns that folder: the entry
     * to put on {@code PYTHONPATH}. The version is a hash of the packaged sources, so different Capstan builds never
     * share a folder.
     *
     * <p>Idempotent and safe for concurrent callers, threads or processes: the files are written to a private
     * temporary folder that is then renamed into place atomically; a caller that loses the race discards its copy.
     * Blocks on file I/O.
     *
     * @param dir parent folder, created if missing
     * @return the folder holding the {@code kfp} package
     * @throws TransientException when the files cannot be written
     * @throws PermanentFailureException when the packaged sources are missing from the classpath
     */
    public static Path install(Path dir) {
        Objects.requireNonNull(dir, "dir");
        var files = packagedFiles();
        var target = dir.resolve(version(files));
        if (Files.isDirectory(target)) {
            return target;
        }
        Path temp = null;
        try {
            Files.createDirectories(dir);
            temp = Files.createTempDirectory(dir, ".kfp-runtime-");
            for (var file : files.entrySet()) {
                var path = temp.resolve(file.getKey());
                Files.createDirectories(path.getParent());
                Files.write(path, file.getValue());
            }
            if (moveIntoPlace(temp, target)) {
                temp = null;
            }
            return target;
        } catch (IOException e) {
            throw new TransientException("cannot install the KFP Python runtime into " + dir + ": " + e.getMessage(), e);
        } finally {
            if (temp != null) {
                deleteTree(temp);
            }
        }
    }

    /** The version folder name {@link #install(Path)} uses: 16 hex digits of a hash of the packaged sources. */
    public static String version() {
        return version(packagedFiles());
    }

    /** Renames {@code temp} to {@code target}; false when another caller installed the same version first. */
    private static boolean moveIntoPlace(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + target.getParent() + " cannot rename folders atomically", e);
        } catch (IOException e) {
            // Another caller won the race. Linux reports a rename onto a non-empty folder as a plain
            // FileSystemException ("Directory not empty"), not always as DirectoryNotEmptyException.
            if (!Files.isDirectory(target)) {
                throw e;
            }
            return false; // theirs holds the same files
        }
    }

    static Map<String, byte[]> packagedFiles() {
        var names = new String(resource(INDEX), StandardCharsets.UTF_8).lines()
                .map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .toList();
        var files = new LinkedHashMap<String, byte[]>();
        for (var name : names) {
            if (name.startsWith("/") || name.contains("..") || name.contains("\\")) {
                throw new PermanentFailureException("invalid entry in the KFP runtime index: " + name);
            }
            files.put(name, resource(name));
        }
        return files;
    }

    private static byte[] resource(String name) {
        try (InputStream in = KfpRuntime.class.getResourceAsStream(RESOURCE_ROOT + name)) {
            if (in == null) {
                throw new PermanentFailureException("the KFP Python runtime file " + RESOURCE_ROOT + name
                        + " is missing from the classpath; the capstan-kfp-runtime jar is incomplete");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new TransientException("cannot read " + RESOURCE_ROOT + name + " from the classpath", e);
        }
    }

    private static String version(Map<String, byte[]> files) {
        try {
            var digest = MessageDigest.getInstance("SHA-256");
            for (var file : files.entrySet()) {
                digest.update(file.getKey().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(file.getValue());
                digest.update((byte) 0);
            }
            return HexFormat.of().formatHex(digest.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    private static void deleteTree(Path root) {
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
        } catch (IOException e) {
            return; // nothing more can be done about a leftover temporary folder
        }
        for (var path : paths) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a leftover temporary file is harmless: its folder name starts with a dot and is never used
            }
        }
    }
}
