package io.capstan.serving.python;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Capstan's Python model-server sources (the offline {@code kserve} shim and {@code sklearnserver}), shipped as
 * resources and written to disk for a process's {@code PYTHONPATH}, as capstan-kfp-runtime does for {@code kfp}.
 */
public final class PythonFiles {
    private static final String ROOT = "/io/capstan/serving/python/";

    private PythonFiles() {
    }

    /** Writes the sources into {@code dir/<hash>/} unless they are there, and returns that folder. */
    public static Path install(Path dir) {
        var files = packaged();
        var target = dir.resolve(version(files));
        if (Files.isDirectory(target)) return target;
        try {
            Files.createDirectories(dir);
            var temp = Files.createTempDirectory(dir, ".python-");
            for (var file : files.entrySet()) {
                var path = temp.resolve(file.getKey());
                Files.createDirectories(path.getParent());
                Files.write(path, file.getValue());
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isDirectory(target)) throw e; // else another caller installed the same files first
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install Capstan's Python model server into " + dir, e);
        }
    }

    private static Map<String, byte[]> packaged() {
        var files = new LinkedHashMap<String, byte[]>();
        for (var line : new String(resource("FILES"), StandardCharsets.UTF_8).lines().map(String::strip).toList()) {
            if (!line.isEmpty() && !line.startsWith("#")) files.put(line, resource(line));
        }
        return files;
    }

    private static byte[] resource(String name) {
        try (InputStream in = PythonFiles.class.getResourceAsStream(ROOT + name)) {
            if (in == null) throw new IllegalStateException(ROOT + name + " is missing from the capstan-serving jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String version(Map<String, byte[]> files) {
        try {
            var digest = MessageDigest.getInstance("SHA-256");
            for (var file : files.entrySet()) {
                digest.update(file.getKey().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(file.getValue());
            }
            return HexFormat.of().formatHex(digest.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
