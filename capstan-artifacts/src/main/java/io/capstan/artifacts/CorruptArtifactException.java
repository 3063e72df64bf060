package io.capstan.artifacts;

import io.capstan.core.Names;
import io.capstan.core.PermanentFailureException;

import java.util.Objects;

/**
 * The bytes stored for an artifact no longer hash to the SHA-256 recorded when it was written. Retrying cannot
 * help: the artifact must be written again from its source. No byte of a corrupt artifact is served.
 */
public class CorruptArtifactException extends PermanentFailureException {
    private final String key;
    private final String location;
    private final String expectedSha256;
    private final String actualSha256;

    /**
     * @param key            the artifact's key
     * @param location       where the bad bytes live, such as the blob's path or its {@code s3://} URI
     * @param expectedSha256 the digest recorded at write time (hex)
     * @param actualSha256   the digest of the bytes found now (hex), or a short description such as "missing"
     */
    public CorruptArtifactException(String key, String location, String expectedSha256, String actualSha256) {
        super(("artifact '%s' at %s is corrupt: expected sha256 %s but the stored bytes hash to %s; it was not served."
                + " Write the artifact again from its source (re-run the step that produced it)")
                .formatted(Names.printable(key), location, expectedSha256, actualSha256));
        this.key = Objects.requireNonNull(key, "key");
        this.location = Objects.requireNonNull(location, "location");
        this.expectedSha256 = Objects.requireNonNull(expectedSha256, "expectedSha256");
        this.actualSha256 = Objects.requireNonNull(actualSha256, "actualSha256");
    }

    public String key() {
        return key;
    }

    public String location() {
        return location;
    }

    public String expectedSha256() {
        return expectedSha256;
    }

    public String actualSha256() {
        return actualSha256;
    }
}
