package io.capstan.pipelines.run;

import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.artifacts.ArtifactUri;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Optional;

/**
 * Moves artifacts between S3 and the local files a step reads and writes, as KFP's launcher does around each step:
 * an {@code s3://} input is downloaded before the step, and an output under an {@code s3://} pipeline root is
 * uploaded after it. Without S3 configured it moves nothing, and {@code s3://} URIs stay as they are. A file
 * artifact is one object; a folder artifact is one object per file, under the artifact's key as a prefix.
 */
final class ArtifactTransfer {
    static final String S3 = "s3://";
    static final ArtifactTransfer NONE = new ArtifactTransfer(Optional.empty());

    private final Optional<ArtifactLocator> locator;

    ArtifactTransfer(Optional<ArtifactLocator> locator) {
        this.locator = locator;
    }

    /** Reports a cache hit's outputs checked against their recorded digests: {@code ok} when unchanged. */
    void cacheChecked(boolean ok) {
        locator.ifPresent(l -> l.integrity().checked("cache", ok));
    }

    /** Capstan's own bucket, when S3 is configured. */
    Optional<String> bucket() {
        return locator.flatMap(ArtifactLocator::bucket);
    }

    /** The store of {@code bucket}, through the configured S3 settings. */
    ArtifactStore bucketStore(String bucket) {
        return locator.flatMap(l -> l.findBucket(bucket))
                .orElseThrow(() -> new PermanentFailureException("bucket " + bucket + ": this server has no S3 configured; set CAPSTAN_S3_BUCKET and CAPSTAN_S3_ENDPOINT"));
    }

    /** Whether {@code uri} is an S3 object this transfer reads and writes. */
    boolean moves(String uri) {
        return uri.startsWith(S3) && bucket().isPresent();
    }

    /**
     * Downloads the object at {@code uri}, or every object under it as a folder, to {@code target}; does nothing if
     * {@code target} exists already (a relaunch of the same attempt).
     *
     * @throws PermanentFailureException if nothing is stored there
     */
    void download(String uri, Path target, String what) {
        if (Files.exists(target)) return;
        var parsed = parse(uri, what);
        var store = store(parsed, what);
        var key = parsed.path();
        var staging = target.resolveSibling(target.getFileName() + ".part");
        try {
            deleteTree(staging);
            Files.createDirectories(target.getParent());
            if (store.stat(key).isPresent()) {
                copy(store, key, staging);
            } else {
                var prefix = key + "/";
                var items = store.list(prefix);
                if (items.isEmpty()) {
                    throw new PermanentFailureException(what + ": nothing is stored at " + uri + " (neither an object nor a folder of objects);"
                            + " the step that produced it wrote no file there");
                }
                for (var item : items) copy(store, item.key(), staging.resolve(item.key().substring(prefix.length())));
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new TransientException(what + ": cannot download " + uri + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * What is stored at the S3 {@code uri} now, as one digest: the SHA-256 recorded when the object was written, or for
     * a folder of objects a SHA-256 over their relative keys and recorded SHA-256s. Empty when nothing is stored there,
     * when the URI is not one this transfer reads, or when S3 cannot be asked (the cache entry is then not trusted).
     */
    Optional<String> digest(String uri) {
        if (!moves(uri)) return Optional.empty();
        try {
            var parsed = ArtifactUri.parse(uri);
            var store = store(parsed, "cached output " + uri);
            var object = store.stat(parsed.path());
            if (object.isPresent()) return Optional.of("sha256:" + object.get().sha256());
            var prefix = parsed.path() + "/";
            var items = store.list(prefix);
            if (items.isEmpty()) return Optional.empty();
            var md = java.security.MessageDigest.getInstance("SHA-256");
            for (var item : items) {
                md.update((item.key().substring(prefix.length()) + "\0" + item.sha256() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            return Optional.of("sha256:" + java.util.HexFormat.of().formatHex(md.digest()));
        } catch (RuntimeException | java.security.NoSuchAlgorithmException e) {
            return Optional.empty();
        }
    }

    /**
     * Uploads {@code local} (a file, or every file in a folder) to {@code uri}. Nothing is uploaded for a path the step
     * did not write.
     */
    void upload(Path local, String uri, String what) {
        if (!Files.exists(local)) return;
        var parsed = parse(uri, what);
        var store = store(parsed, what);
        try {
            if (Files.isRegularFile(local)) {
                put(store, parsed.path(), local, uri, what);
                return;
            }
            var files = new ArrayList<Path>();
            try (var walk = Files.walk(local)) {
                walk.filter(Files::isRegularFile).sorted(Comparator.naturalOrder()).forEach(files::add);
            }
            for (var file : files) {
                var relative = local.relativize(file).toString().replace(java.io.File.separatorChar, '/');
                put(store, parsed.path() + "/" + relative, file, uri, what);
            }
        } catch (IOException | UncheckedIOException e) {
            throw new TransientException(what + ": cannot upload " + local + " to " + uri + ": " + e.getMessage(), e);
        }
    }

    private static void put(ArtifactStore store, String key, Path file, String uri, String what) throws IOException {
        try (var in = Files.newInputStream(file)) {
            store.put(key, in);
        } catch (ConflictException e) {
            throw new PermanentFailureException(what + ": " + uri + " already holds different content; " + e.getMessage(), e);
        }
    }

    private ArtifactStore store(ArtifactUri uri, String what) {
        var l = locator.orElseThrow(() -> new PermanentFailureException(what + ": " + uri + " is in S3, but this server has no S3 configured;"
                + " set CAPSTAN_S3_BUCKET and CAPSTAN_S3_ENDPOINT"));
        return l.storeOf(uri, what);
    }

    private static ArtifactUri parse(String uri, String what) {
        try {
            return ArtifactUri.parse(uri);
        } catch (InvalidSpecException e) {
            throw new PermanentFailureException(what + ": " + e.getMessage(), e);
        }
    }

    private static void copy(ArtifactStore store, String key, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        try (var in = store.get(key)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) return;
        try (var walk = Files.walk(path)) {
            for (var p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
