package io.capstan.artifacts;

/** Told of each verification of stored bytes against the digest recorded for them, for the platform's integrity metrics. */
@FunctionalInterface
public interface IntegrityListener {
    IntegrityListener NONE = (check, ok) -> { };

    /**
     * @param check what was verified: {@code read} (an artifact's bytes against the SHA-256 recorded when written) or
     *              {@code cache} (a cached pipeline step's outputs against the digests recorded with the cache entry)
     * @param ok    whether the bytes matched
     */
    void checked(String check, boolean ok);
}
