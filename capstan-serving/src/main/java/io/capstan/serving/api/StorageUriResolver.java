package io.capstan.serving.api;

import java.util.Map;

/**
 * Turns a storage URI of a scheme the serving layer does not read itself, such as {@code model-registry://iris@champion},
 * into one it does, when a revision first loads; every replica of that revision then loads the same files.
 */
public interface StorageUriResolver {
    /** Whether this resolver reads {@code storageUri}. */
    boolean handles(String storageUri);

    /**
     * @param namespace the InferenceService's namespace, where the URI names none
     * @throws IllegalArgumentException naming what the URI names that does not exist
     */
    Resolution resolve(String namespace, String storageUri);

    /**
     * @param storageUri where the files are
     * @param source what the URI named (such as the registered model and version ids), recorded in the
     *               InferenceService's {@code status.modelSource}
     */
    record Resolution(String storageUri, Map<String, String> source) {
        public Resolution {
            java.util.Objects.requireNonNull(storageUri, "storageUri");
            source = Map.copyOf(source);
        }
    }
}
