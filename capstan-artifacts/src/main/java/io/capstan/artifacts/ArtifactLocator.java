package io.capstan.artifacts;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;

import java.util.Objects;
import java.util.Optional;

/**
 * Which store holds an artifact URI: {@code capstan://artifacts/key} is a key of the store Capstan is configured with;
 * {@code s3://bucket/key} is an object in that bucket, reached through the configured S3 endpoint and credentials
 * (any bucket they can read, not only Capstan's own). Without S3 settings there is no S3 to reach, and an
 * {@code s3://} URI is refused with the field that names it; it is never read from somewhere else. Thread-safe.
 */
public final class ArtifactLocator {
    private final ArtifactStore configured;
    private final Optional<S3ArtifactStore> s3;
    private final IntegrityListener integrity;

    private ArtifactLocator(ArtifactStore configured, Optional<S3ArtifactStore> s3, IntegrityListener integrity) {
        this.configured = Objects.requireNonNull(configured, "configured");
        this.s3 = s3;
        this.integrity = Objects.requireNonNull(integrity, "integrity");
    }

    /** A locator for the store Capstan is configured with: S3 when {@code store} is an {@link S3ArtifactStore}, else local only. */
    public static ArtifactLocator of(ArtifactStore store) {
        return new ArtifactLocator(store, store instanceof S3ArtifactStore s ? Optional.of(s) : Optional.empty(), IntegrityListener.NONE);
    }

    /** This locator, reading Capstan's own artifacts through {@code wrapped} (a decorator of the configured store). */
    public ArtifactLocator withConfigured(ArtifactStore wrapped) {
        return new ArtifactLocator(wrapped, s3, integrity);
    }

    /** This locator, telling {@code listener} of the digest checks its users make (a cache hit's outputs, say). */
    public ArtifactLocator withIntegrityListener(IntegrityListener listener) {
        return new ArtifactLocator(configured, s3, listener);
    }

    /** Where digest checks are reported. */
    public IntegrityListener integrity() {
        return integrity;
    }

    /** The store Capstan is configured with, which {@code capstan://} URIs name. */
    public ArtifactStore configured() {
        return configured;
    }

    /** Capstan's own bucket, when it stores artifacts in S3. */
    public Optional<String> bucket() {
        return s3.map(S3ArtifactStore::bucket);
    }

    /** The store for {@code bucket} through the configured S3 settings; empty when S3 is not configured. */
    public Optional<ArtifactStore> findBucket(String bucket) {
        return s3.map(s -> s.inBucket(bucket));
    }

    /**
     * The store that holds {@code uri}'s key ({@link ArtifactUri#path()}), for {@code s3://} and {@code capstan://} URIs.
     *
     * @param field the spec field that gave the URI, named in the error
     * @throws InvalidSpecException naming {@code field} for an {@code s3://} URI when S3 is not configured, and for a
     *                              {@code file://} URI, which no store holds
     */
    public ArtifactStore storeOf(ArtifactUri uri, String field) {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(field, "field");
        return switch (uri.scheme()) {
            case CAPSTAN -> configured;
            case S3 -> findBucket(uri.authority()).orElseThrow(() -> InvalidSpecException.of(field, ("'%s' is in S3, but this server has no S3"
                    + " configured; set CAPSTAN_S3_BUCKET and CAPSTAN_S3_ENDPOINT (and the CAPSTAN_S3_ACCESS_KEY and CAPSTAN_S3_SECRET_KEY"
                    + " that can read bucket '%s'), or give a local path").formatted(Names.printable(uri.toString()), uri.authority())));
            case FILE -> throw InvalidSpecException.of(field, "'" + Names.printable(uri.toString()) + "' is a local file, not an artifact in a store");
        };
    }
}
