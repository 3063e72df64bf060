package io.capstan.training;

import io.capstan.artifacts.ArtifactUri;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Copies a TrainJob's initializer data into the job's folder: one object, or every object under the key taken as a
 * folder. A capstan:// URI is read from Capstan's artifact store; an s3://bucket/key URI from that bucket through
 * the configured S3 endpoint and credentials, and is refused, naming the field, when no S3 is configured.
 */
final class Initializers {
    private static final String DONE = ".capstan-complete";

    private Initializers() {
    }

    /** Idempotent: a folder copied completely before (a marker file says so) is not copied again. */
    static void fetch(TrainingController controller, JobPlan plan, Gang.Dirs dirs) {
        for (var init : plan.fetches()) {
            var uri = init.fetchUri().orElseThrow();
            var target = dirs.initializers().resolve(init.name());
            if (Files.exists(target.resolve(DONE))) continue;
            var field = "spec.initializer." + init.name() + ".storageUri";
            ArtifactUri parsed;
            try {
                parsed = ArtifactUri.parse(uri);
            } catch (InvalidSpecException e) {
                throw InvalidSpecException.of(field, e.getMessage());
            }
            var locator = controller.artifacts().orElseThrow(() -> InvalidSpecException.of(field,
                    uri + " needs Capstan's artifact store, which this server was not given; use a local path"));
            // capstan://artifacts/<key> is a key of Capstan's store; s3://<bucket>/<key> is read from that bucket.
            var store = locator.storeOf(parsed, field);
            var key = parsed.path();
            var where = parsed.scheme() == ArtifactUri.Scheme.S3 ? "bucket '" + parsed.authority() + "'" : "Capstan's artifact store";
            try {
                Files.createDirectories(target);
                var single = store.stat(key);
                if (single.isPresent()) {
                    copy(store, key, target.resolve(Path.of(key).getFileName().toString()));
                } else {
                    var prefix = key.endsWith("/") ? key : key + "/";
                    var items = store.list(prefix);
                    if (items.isEmpty()) {
                        throw new PermanentFailureException("initializer " + init.name() + ": nothing stored at " + uri
                                + " in " + where + " (key or folder '" + key + "')");
                    }
                    for (var item : items) {
                        var relative = Path.of(item.key().substring(prefix.length())).normalize();
                        if (relative.isAbsolute() || relative.startsWith("..")) continue;
                        copy(store, item.key(), target.resolve(relative));
                    }
                }
                Files.writeString(target.resolve(DONE), uri);
            } catch (IOException e) {
                throw new TransientException("cannot copy " + uri + " to " + target + ": " + e.getMessage(), e);
            }
        }
    }

    private static void copy(io.capstan.artifacts.ArtifactStore store, String key, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        try (var in = store.get(key)) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
