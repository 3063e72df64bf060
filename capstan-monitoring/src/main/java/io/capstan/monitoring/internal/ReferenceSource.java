package io.capstan.monitoring.internal;

import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.ArtifactUri;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.monitoring.ReferenceResolver;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a reference dataset's bytes come from: a local file, an object in S3 or Capstan's artifact store (through the
 * configured settings only), or what an ML Metadata artifact or a registry DataSet artifact points at. Messages name
 * {@code spec.reference.uri}.
 */
final class ReferenceSource {
    static final String FIELD = "spec.reference.uri";

    private final ArtifactLocator locator;
    private final ReferenceResolver resolver;

    /** @param locator the configured artifact stores; null when this server reads local files only */
    ReferenceSource(ArtifactLocator locator, ReferenceResolver resolver) {
        this.locator = locator;
        this.resolver = resolver == null ? ReferenceResolver.NONE : resolver;
    }

    /** A dataset: where it was finally read from, its bytes (or its local file), and when it was written (epoch ms, NaN unknown). */
    record Dataset(String source, Path file, byte[] bytes, double writtenMillis) {
    }

    Dataset open(String namespace, URI uri) {
        var scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.equals(ModelMonitorSpec.MLMD_SCHEME) || scheme.equals(ModelMonitorSpec.REGISTRY_SCHEME)) {
            String target;
            try {
                target = resolver.resolve(namespace, uri);
            } catch (IllegalArgumentException e) {
                throw InvalidSpecException.of(FIELD, Names.printable(uri.toString()) + ": " + e.getMessage());
            }
            var parsed = parse(target, uri + " points at ");
            return read(parsed, uri + " (" + target + ")");
        }
        return read(parse(uri.toString(), ""), uri.toString());
    }

    private static ArtifactUri parse(String text, String context) {
        try {
            return ArtifactUri.parse(text);
        } catch (InvalidSpecException e) {
            throw InvalidSpecException.of(FIELD, context + e.getMessage());
        }
    }

    private Dataset read(ArtifactUri uri, String source) {
        if (uri.scheme() == ArtifactUri.Scheme.FILE) {
            var path = Path.of(uri.path());
            try {
                if (!Files.isRegularFile(path)) throw InvalidSpecException.of(FIELD, source + " is not a file on this server");
                if (Files.size(path) > ReferenceData.MAX_BYTES) throw tooLarge(source);
                return new Dataset(source, path, null, Files.getLastModifiedTime(path).toMillis());
            } catch (IOException e) {
                throw InvalidSpecException.of(FIELD, "cannot read " + source + ": " + e.getMessage());
            }
        }
        if (locator == null) throw InvalidSpecException.of(FIELD, source + " is in an artifact store, and this server reads references from local files only");
        var store = locator.storeOf(uri, FIELD);
        var info = store.stat(uri.path()).orElseThrow(() -> InvalidSpecException.of(FIELD, source + " does not exist"));
        if (info.sizeBytes() > ReferenceData.MAX_BYTES) throw tooLarge(source);
        try (InputStream in = store.get(uri.path())) {
            var bytes = in.readNBytes((int) ReferenceData.MAX_BYTES + 1);
            if (bytes.length > ReferenceData.MAX_BYTES) throw tooLarge(source);
            return new Dataset(source, null, bytes, info.createdAt() == null ? Double.NaN : info.createdAt().toEpochMilli());
        } catch (IOException | java.io.UncheckedIOException e) {
            throw InvalidSpecException.of(FIELD, "cannot read " + source + ": " + e.getMessage());
        }
    }

    private static InvalidSpecException tooLarge(String source) {
        return InvalidSpecException.of(FIELD, source + " is over " + (ReferenceData.MAX_BYTES >> 20) + " MiB; give a sample of it");
    }
}
