package io.capstan.registry;

/**
 * What a {@code model-registry://} storage URI names: the registered model, the version (the one named, the one an
 * alias points at, or the latest), and that version's model artifact, whose URI is where the files are.
 *
 * @param alias the alias the URI named, or null
 */
public record ResolvedModel(String namespace, String registeredModelId, String modelName, String modelVersionId, String versionName,
                            String alias, String storageUri, String modelFormatName, String modelFormatVersion) {
}
