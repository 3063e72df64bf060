package io.capstan.artifacts;

import com.fasterxml.jackson.core.JacksonException;
import io.capstan.core.ConflictException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A content-addressed artifact store in a local folder.
 *
 * <p>Layout under the root:
 * <ul>
 *   <li>{@code blobs/sha256/<first two hex digits>/<digest>}: the bytes, once per distinct content, read-only;</li>
 *   <li>{@code refs/<key>.json}: one small JSON document per key ({@code sha256}, {@code sizeBytes},
 *       {@code createdAt}); every directory in a key gets the suffix {@code .d}, so the key {@code a} (file
 *       {@code a.json}) never collides with the key {@code a.json/b} (directory {@code a.json.d});</li>
 *   <li>{@code tmp/}: uploads in progress, on the same file system so that they can be renamed into place.</li>
 * </ul>
 *
 * <p>{@link #put} streams into {@code tmp/} while hashing, forces the bytes to disk, and renames the file into
 * {@code blobs/} atomically; a second writer of the same content finds the blob there, or renames an identical
 * file over it. The key's ref is then created with a hard link, which fails atomically if the ref exists, so of two
 * writers of one key exactly one creates it and the other compares digests: same content is a no-op, different
 * content is a {@link ConflictException}.
 *
 * <p>{@link #get} hashes the whole blob before it returns the first byte, so a corrupt artifact is never served;
 * the cost is reading every artifact twice (the second read is usually from the page cache). {@link #uriOf} is the
 * {@code file://} URI of the blob, where a user can read the bytes directly.
 *
 * <p>Thread-safe, and safe to share one root between processes on one machine. All methods block on file I/O.
 */
public final class LocalArtifactStore implements ArtifactStore {
    private static final Logger LOG = LoggerFactory.getLogger(LocalArtifactStore.class);
    private static final String REF_SUFFIX = ".json";
    private static final String DIR_SUFFIX = ".d";
    private static final int MAX_REF_BYTES = 64 * 1024;

    private final Path root;
    private final Path blobs;
    private final Path refs;
    private final Path tmp;
    private final Clock clock;

    /** The JSON document stored for each key. */
    record Ref(String key, String sha256, long sizeBytes, Instant createdAt) {
    }

    /**
     * Opens (and creates, if missing) a store rooted at {@code root}.
     *
     * @throws TransientException if the folders cannot be created
     */
    public LocalArtifactStore(Path root, Clock clock) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.blobs = this.root.resolve("blobs").resolve("sha256");
        this.refs = this.root.resolve("refs");
        this.tmp = this.root.resolve("tmp");
        try {
            Files.createDirectories(blobs);
            Files.createDirectories(refs);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new TransientException("cannot create the artifact store folders under " + this.root
                    + ": " + e.getMessage() + "; check that the folder is writable (CAPSTAN_HOME)", e);
        }
    }

    public Path root() {
        return root;
    }

    @Override
    public ArtifactInfo put(String key, InputStream content) {
        ArtifactKeys.requireValid(key);
        Objects.requireNonNull(content, "content");
        var refPath = refPath(key);
        Path upload = null;
        try {
            upload = Files.createTempFile(tmp, "put-", ".part");
            Sha256.Digest written;
            try (var channel = FileChannel.open(upload, StandardOpenOption.WRITE);
                 var out = Channels.newOutputStream(channel)) {
                written = Sha256.copy(content, out);
                channel.force(true);
            }
            var existing = readRef(key, refPath);
            if (existing.isPresent() && !existing.get().sha256().equals(written.sha256())) {
                throw conflict(key, existing.get(), written);
            }
            // Placed even when the key exists with this content: that heals a blob that was lost or truncated.
            placeBlob(upload, written);
            upload = null;
            if (existing.isPresent()) return info(existing.get());
            var ref = new Ref(key, written.sha256(), written.sizeBytes(), clock.instant());
            return createRef(key, refPath, ref, written);
        } catch (IOException e) {
            throw new TransientException("cannot write artifact '%s' under %s: %s".formatted(Names.printable(key), root, e), e);
        } finally {
            if (upload != null) deleteQuietly(upload);
        }
    }

    @Override
    public InputStream get(String key) {
        ArtifactKeys.requireValid(key);
        var ref = readRef(key, refPath(key)).orElseThrow(() -> notFound(key));
        var blob = blobPath(ref.sha256());
        FileChannel channel;
        try {
            channel = FileChannel.open(blob, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CorruptArtifactException(key, blob.toString(), ref.sha256(), "nothing (the blob file is missing)");
        } catch (IOException e) {
            throw new TransientException("cannot open artifact '%s' at %s: %s".formatted(Names.printable(key), blob, e), e);
        }
        try {
            // Hash through the same open file that is then served, so a blob renamed over in between is not read.
            var actual = Sha256.of(Channels.newInputStream(channel));
            if (!actual.sha256().equals(ref.sha256()) || actual.sizeBytes() != ref.sizeBytes()) {
                throw new CorruptArtifactException(key, blob.toString(), ref.sha256(), actual.sha256());
            }
            channel.position(0);
            return new VerifyingInputStream(Channels.newInputStream(channel), key, blob.toString(), ref.sha256());
        } catch (IOException e) {
            closeAfterFailure(channel, e);
            throw new TransientException("cannot read artifact '%s' at %s: %s".formatted(Names.printable(key), blob, e), e);
        } catch (RuntimeException e) {
            closeAfterFailure(channel, e);
            throw e;
        }
    }

    @Override
    public Optional<ArtifactInfo> stat(String key) {
        ArtifactKeys.requireValid(key);
        return readRef(key, refPath(key)).map(this::info);
    }

    @Override
    public List<ArtifactInfo> list(String prefix) {
        ArtifactKeys.requireValidPrefix(prefix);
        var segments = prefix.split("/", -1);
        var start = refs;
        for (int i = 0; i < segments.length - 1; i++) start = start.resolve(segments[i] + DIR_SUFFIX);
        if (!Files.isDirectory(start)) return List.of();
        var found = new ArrayList<ArtifactInfo>();
        try (Stream<Path> files = Files.walk(start)) {
            for (var file : (Iterable<Path>) files::iterator) {
                if (!Files.isRegularFile(file) || !file.getFileName().toString().endsWith(REF_SUFFIX)) continue;
                var key = keyOf(refs.relativize(file));
                if (!key.startsWith(prefix)) continue;
                // A ref removed by hand between the walk and the read is simply not listed.
                readRef(key, file).ifPresent(ref -> found.add(info(ref)));
            }
        } catch (IOException | UncheckedIOException e) {
            throw new TransientException("cannot list artifacts with prefix '%s' under %s: %s"
                    .formatted(Names.printable(prefix), refs, e), e);
        }
        found.sort((a, b) -> ArtifactKeys.ORDER.compare(a.key(), b.key()));
        return List.copyOf(found);
    }

    /**
     * The {@code file://} URI of the artifact's bytes.
     *
     * @throws NotFoundException if nothing is stored under {@code key}, since the blob is named by its content
     */
    @Override
    public String uriOf(String key) {
        ArtifactKeys.requireValid(key);
        return readRef(key, refPath(key)).map(ref -> blobUri(ref.sha256())).orElseThrow(() -> notFound(key));
    }

    Path blobPath(String sha256) {
        if (!Sha256.HEX.matcher(sha256).matches()) {
            throw new PermanentFailureException("artifact store %s: '%s' is not a SHA-256 digest; the ref files are damaged"
                    .formatted(root, Names.printable(sha256)));
        }
        return blobs.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    Path refPath(String key) {
        var segments = key.split("/", -1);
        var path = refs;
        for (int i = 0; i < segments.length - 1; i++) path = path.resolve(segments[i] + DIR_SUFFIX);
        path = path.resolve(segments[segments.length - 1] + REF_SUFFIX).normalize();
        if (!path.startsWith(refs)) {
            // ArtifactKeys refuses every key that could get here; this guards the file system if that ever regresses.
            throw new IllegalStateException("artifact key '" + Names.printable(key) + "' resolves outside " + refs);
        }
        return path;
    }

    private static String keyOf(Path relativeRef) {
        var sb = new StringBuilder();
        int n = relativeRef.getNameCount();
        for (int i = 0; i < n; i++) {
            var name = relativeRef.getName(i).toString();
            if (i < n - 1) {
                sb.append(name, 0, name.length() - DIR_SUFFIX.length()).append('/');
            } else {
                sb.append(name, 0, name.length() - REF_SUFFIX.length());
            }
        }
        return sb.toString();
    }

    private void placeBlob(Path upload, Sha256.Digest written) throws IOException {
        var blob = blobPath(written.sha256());
        if (Files.isRegularFile(blob) && Files.size(blob) == written.sizeBytes()) {
            Files.delete(upload);
            return;
        }
        makeReadOnly(upload);
        Files.createDirectories(blob.getParent());
        try {
            // rename(2) replaces a blob of the wrong size (damaged) or one a concurrent writer placed with identical bytes.
            Files.move(upload, blob, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // A file system whose atomic rename does not replace: the blob is there, named by the same content.
            Files.delete(upload);
        }
    }

    private ArtifactInfo createRef(String key, Path refPath, Ref ref, Sha256.Digest written) throws IOException {
        Files.createDirectories(refPath.getParent());
        var pending = Files.createTempFile(tmp, "ref-", ".json");
        try {
            try (var channel = FileChannel.open(pending, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap(Json.json().writeValueAsBytes(ref)));
                channel.force(true);
            }
            try {
                Files.createLink(refPath, pending);
            } catch (UnsupportedOperationException e) {
                // No hard links: a plain move also refuses an existing target, though not atomically.
                Files.move(pending, refPath);
            }
            return info(ref);
        } catch (FileAlreadyExistsException e) {
            var winner = readRef(key, refPath).orElseThrow(() -> new TransientException(
                    "artifact '%s': its ref %s appeared and vanished during the write; write it again".formatted(Names.printable(key), refPath)));
            return sameOrConflict(key, winner, written);
        } finally {
            deleteQuietly(pending);
        }
    }

    private ArtifactInfo sameOrConflict(String key, Ref existing, Sha256.Digest written) {
        if (existing.sha256().equals(written.sha256())) return info(existing);
        throw conflict(key, existing, written);
    }

    private static ConflictException conflict(String key, Ref existing, Sha256.Digest written) {
        return new ConflictException(("artifact '%s' already exists with sha256 %s and cannot be overwritten with different content"
                + " (sha256 %s); artifacts are immutable, so write the new content under a new key")
                .formatted(Names.printable(key), existing.sha256(), written.sha256()));
    }

    private Optional<Ref> readRef(String key, Path refPath) {
        byte[] bytes;
        try {
            if (Files.size(refPath) > MAX_REF_BYTES) throw damagedRef(key, refPath, "it is larger than " + MAX_REF_BYTES + " bytes", null);
            bytes = Files.readAllBytes(refPath);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new TransientException("cannot read the ref of artifact '%s' at %s: %s".formatted(Names.printable(key), refPath, e), e);
        }
        Ref ref;
        try {
            ref = Json.json().readValue(bytes, Ref.class);
        } catch (JacksonException e) {
            throw damagedRef(key, refPath, "it is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw damagedRef(key, refPath, e.toString(), e);
        }
        if (ref == null || ref.sha256() == null || !Sha256.HEX.matcher(ref.sha256()).matches() || ref.sizeBytes() < 0 || ref.createdAt() == null) {
            throw damagedRef(key, refPath, "it lacks a valid sha256, sizeBytes or createdAt", null);
        }
        return Optional.of(new Ref(key, ref.sha256(), ref.sizeBytes(), ref.createdAt()));
    }

    private static PermanentFailureException damagedRef(String key, Path refPath, String why, Exception cause) {
        return new PermanentFailureException("the ref of artifact '%s' at %s is damaged: %s; delete that file and write the artifact again"
                .formatted(Names.printable(key), refPath, why), cause);
    }

    private ArtifactInfo info(Ref ref) {
        return new ArtifactInfo(ref.key(), blobUri(ref.sha256()), ref.sizeBytes(), ref.sha256(), ref.createdAt());
    }

    private String blobUri(String sha256) {
        return ArtifactUri.ofFile(blobPath(sha256)).toString();
    }

    private NotFoundException notFound(String key) {
        return new NotFoundException("artifact '%s' not found in the local artifact store at %s; check the key, or list what is stored with its prefix"
                .formatted(Names.printable(key), root));
    }

    private static void makeReadOnly(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
        } catch (UnsupportedOperationException e) {
            if (!file.toFile().setReadOnly()) throw new IOException("cannot make " + file + " read-only", e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // Only a leftover in tmp/: it costs disk space, not correctness, and the caller's own outcome matters more.
            LOG.atWarn().addKeyValue("file", file).addKeyValue("error", e.toString()).log("cannot delete temporary file");
        }
    }

    private static void closeAfterFailure(FileChannel channel, Exception failure) {
        try {
            channel.close();
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
