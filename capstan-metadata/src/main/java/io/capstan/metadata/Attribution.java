package io.capstan.metadata;

/** Artifact {@code artifactId} belongs to context {@code contextId}, as MLMD's {@code Attribution}. */
public record Attribution(long contextId, long artifactId) {
    public Attribution {
        if (contextId <= 0 || artifactId <= 0) {
            throw new io.capstan.core.InvalidSpecException(
                    "attribution needs stored ids (> 0), got context " + contextId + ", artifact " + artifactId);
        }
    }
}
