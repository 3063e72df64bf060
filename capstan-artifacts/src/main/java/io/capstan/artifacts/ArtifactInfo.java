package io.capstan.artifacts;

import java.time.Instant;

/** Stored artifact: its key, full URI, size, SHA-256 (hex) and when it was written. */
public record ArtifactInfo(String key, String uri, long sizeBytes, String sha256, Instant createdAt) {
}
