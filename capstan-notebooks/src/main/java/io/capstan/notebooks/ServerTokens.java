package io.capstan.notebooks;

import io.capstan.core.TransientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Each notebook server's own Jupyter token, made by Capstan and kept in a file only the server's user can read
 * ({@code <root>/<notebook uid>}, 0600), so that a restarted Capstan reaches the server it re-adopts. Users never
 * see it: the proxy adds it to what it forwards.
 */
final class ServerTokens {
    private final Path root;
    private final SecureRandom random = new SecureRandom();
    /** Tokens read or made so far, by notebook uid, so that the proxy reads no file per request; thread-safe map. */
    private final java.util.concurrent.ConcurrentMap<String, String> known = new java.util.concurrent.ConcurrentHashMap<>();

    ServerTokens(Path root) {
        this.root = root;
    }

    /** The notebook's token, made on first use. */
    String tokenOf(String uid) {
        var existing = find(uid);
        if (existing.isPresent()) return existing.get();
        var bytes = new byte[32];
        random.nextBytes(bytes);
        var token = HexFormat.of().formatHex(bytes);
        var file = file(uid);
        try {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            var tmp = root.resolve(uid + ".tmp");
            Files.deleteIfExists(tmp);
            Files.writeString(tmp, token, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new TransientException("cannot write the notebook server's token under " + root + ": " + e.getMessage(), e);
        }
        return token;
    }

    Optional<String> find(String uid) {
        var cached = known.get(uid);
        if (cached != null) return Optional.of(cached);
        var file = file(uid);
        try {
            if (!Files.isRegularFile(file)) return Optional.empty();
            var token = Files.readString(file).strip();
            known.put(uid, token);
            return Optional.of(token);
        } catch (IOException e) {
            throw new TransientException("cannot read the notebook server's token " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the tokens of notebooks that no longer exist. The files are listed before the live notebooks are read,
     * so that the token of a notebook created meanwhile (written after its notebook was stored) is never taken.
     */
    void retainOnly(java.util.function.Supplier<java.util.Set<String>> liveUids) {
        if (!Files.isDirectory(root)) return;
        try (var files = Files.list(root)) {
            var listed = files.toList();
            var live = liveUids.get();
            for (var f : listed) {
                var uid = f.getFileName().toString();
                if (!uid.endsWith(".tmp") && !live.contains(uid)) {
                    known.remove(uid);
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new TransientException("cannot clean up notebook tokens under " + root + ": " + e.getMessage(), e);
        }
    }

    private Path file(String uid) {
        if (!uid.matches("[A-Za-z0-9-]{1,64}")) throw new IllegalArgumentException("not a uid: " + io.capstan.core.Names.printable(uid));
        return root.resolve(uid);
    }
}
