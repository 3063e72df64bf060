package io.capstan.artifacts;

import java.io.InputStream;
import java.util.List;
import java.util.Optional;

/**
 * Stores immutable artifacts under keys such as {@code runs/abc/model.onnx}. Keys are relative, '/'-separated
 * and never escape the store's root ({@code ..}, absolute paths and their encoded forms are refused). Reads are
 * verified against the SHA-256 recorded at write time. Thread-safe.
 */
public interface ArtifactStore {

    /** Streams {@code content} in under {@code key}; returns what was stored. Writing the same key twice with the same content is a no-op. */
    ArtifactInfo put(String key, InputStream content);

    /** Opens the artifact; the stream throws {@link CorruptArtifactException} at its end if the digest does not match. */
    InputStream get(String key);

    Optional<ArtifactInfo> stat(String key);

    /** Every artifact whose key starts with {@code prefix}, in key order. */
    List<ArtifactInfo> list(String prefix);

    /** The URI a user sees for this key: {@code file://...}, {@code s3://bucket/...}. */
    String uriOf(String key);
}
