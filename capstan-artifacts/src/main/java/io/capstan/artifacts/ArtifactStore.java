package io.capstan.artifacts;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Stores immutable artifacts under keys such as {@code runs/abc/model.onnx}. Keys are relative, '/'-separated
 * and never escape the store's root ({@code ..}, absolute paths and their encoded forms are refused, see
 * {@link ArtifactKeys}); a bad key or prefix is an {@link io.capstan.core.InvalidSpecException}. Reads are
 * verified against the SHA-256 recorded at write time. Thread-safe; every method blocks on I/O. Failures that
 * may pass (disk, network, a 5xx from S3) are {@link io.capstan.core.TransientException}s.
 */
public interface ArtifactStore {

    /**
     * Streams {@code content} in under {@code key} (reading it to its end, not closing it); returns what was stored.
     * Writing the same key twice with the same content is a no-op that returns the first write's info; different
     * content under an existing key is a {@link io.capstan.core.ConflictException}, since artifacts are immutable.
     */
    ArtifactInfo put(String key, InputStream content);

    /**
     * Opens the artifact; the caller closes the stream. The whole artifact is verified before the first byte is
     * returned, so a corrupt one makes this method throw {@link CorruptArtifactException} and is never served; the
     * stream also throws it at its end if the bytes changed while being read.
     *
     * @throws io.capstan.core.NotFoundException if nothing is stored under {@code key}
     */
    InputStream get(String key);

    /** What is stored under {@code key}, or empty if nothing is. */
    Optional<ArtifactInfo> stat(String key);

    /** Every artifact whose key starts with {@code prefix}, in key order. */
    List<ArtifactInfo> list(String prefix);

    /**
     * The URI a user sees for this key: {@code file://...}, {@code s3://bucket/...}. A store whose URIs name the
     * content (the local store's blobs) throws {@link io.capstan.core.NotFoundException} for a key not yet written.
     */
    String uriOf(String key);
}
