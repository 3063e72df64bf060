package io.capstan.serving.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.CapstanConfig;
import io.capstan.core.ConfigResolver;
import io.capstan.core.CoreKinds;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.store.ResourceStore;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * The S3 credentials a predictor downloads its model with, found as KServe finds them:
 * <ul>
 *   <li>{@code model.storage.key}: the entry of that name in the {@code storage-config} Secret (or the Secret
 *       {@code model.storage.parameters.secretName} names), a JSON object with {@code type: s3},
 *       {@code access_key_id}, {@code secret_access_key}, {@code endpoint_url}, {@code region} and
 *       {@code bucket}/{@code default_bucket}; {@code model.storage.path} is the key in that bucket when there is no
 *       {@code storageUri};</li>
 *   <li>else {@code serviceAccountName}: the first Secret listed under the ServiceAccount's {@code secrets} that
 *       holds {@code AWS_ACCESS_KEY_ID}, with the annotations {@code serving.kserve.io/s3-endpoint} (host and port),
 *       {@code serving.kserve.io/s3-usehttps} ({@code "0"} for http) and {@code serving.kserve.io/s3-region}.</li>
 * </ul>
 * Without either, a model in S3 is read with the server's own S3 settings.
 */
final class StorageCredentials {
    static final String STORAGE_CONFIG = "storage-config";
    static final String ANNOTATION = "serving.kserve.io/";

    /** Credentials for one bucket (left empty: the storage URI names it), and the Secret they came from. */
    record S3Access(String secretName, CapstanConfig.S3Settings settings) {
        CapstanConfig.S3Settings forBucket(String bucket) {
            return new CapstanConfig.S3Settings(settings.endpoint(), settings.region(), bucket, settings.accessKey(), settings.secretKey(), true);
        }

        /** Without the keys, so that it can be logged. */
        @Override
        public String toString() {
            return "S3Access[secret=" + secretName + ", endpoint=" + settings.endpoint() + "]";
        }
    }

    /** Where to read a model from: its storage URI, with the credentials that reach it. */
    record Location(String storageUri, Optional<S3Access> access) {
    }

    private StorageCredentials() {
    }

    /**
     * The model's location and credentials for a predictor spec node in {@code namespace}.
     *
     * @throws ModelLoadException naming a service account, secret or key that does not resolve
     */
    static Location locate(ResourceStore store, String namespace, JsonNode predictor, String storageUri) throws ModelLoadException {
        var configs = new ConfigResolver(ConfigResolver.Source.of(store::find));
        var model = predictor.path("model");
        var storage = model.path("storage");
        try {
            if (storage.path("key").isTextual() && !storage.path("key").asText().isEmpty()) {
                return fromStorageConfig(configs, namespace, storage, storageUri);
            }
            var account = predictor.path("serviceAccountName").asText("");
            if (account.isEmpty() || storageUri == null || !storageUri.startsWith("s3://")) return new Location(storageUri, Optional.empty());
            return new Location(storageUri, Optional.of(fromServiceAccount(store, namespace, account)));
        } catch (ConfigResolver.ConfigReferenceException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    private static Location fromStorageConfig(ConfigResolver configs, String namespace, JsonNode storage, String storageUri)
            throws ModelLoadException {
        var key = storage.path("key").asText();
        var secretName = storage.path("parameters").path("secretName").asText(STORAGE_CONFIG);
        var where = "predictor.model.storage: ";
        var entries = configs.find(where, CoreKinds.SECRET, namespace, secretName, false, "storage key '" + key + "'").orElseThrow();
        var raw = ConfigResolver.entry(where, CoreKinds.SECRET, secretName, entries, key, false, "storage key '" + key + "'").orElseThrow();
        JsonNode entry;
        try {
            entry = Json.json().readTree(new String(raw, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            // The message of the parser quotes the text, which holds the keys: name the place only.
            throw new ModelLoadException(where + "key '" + key + "' of secret '" + secretName + "' is not a JSON object; write it as "
                    + "{\"type\": \"s3\", \"access_key_id\": ..., \"secret_access_key\": ..., \"endpoint_url\": ...}");
        }
        var type = entry.path("type").asText("");
        if (!type.equals("s3")) {
            throw new ModelLoadException(where + "key '" + key + "' of secret '" + secretName + "' has type '" + type
                    + "'; Capstan reads only type s3 storage");
        }
        var bucket = entry.path("bucket").asText(entry.path("default_bucket").asText(""));
        var uri = storageUri;
        if (uri == null || uri.isBlank()) {
            var path = storage.path("path").asText("");
            if (bucket.isEmpty() || path.isEmpty()) {
                throw new ModelLoadException(where + "without a storageUri, set storage.path and a bucket (or default_bucket) in key '"
                        + key + "' of secret '" + secretName + "'");
            }
            uri = "s3://" + bucket + "/" + (path.startsWith("/") ? path.substring(1) : path);
        }
        if (entry.path("access_key_id").asText("").isEmpty() || entry.path("secret_access_key").asText("").isEmpty()) {
            throw new ModelLoadException(where + "key '" + key + "' of secret '" + secretName + "' needs access_key_id and secret_access_key");
        }
        var settings = new CapstanConfig.S3Settings(entry.path("endpoint_url").asText(""), entry.path("region").asText(""), bucket,
                entry.path("access_key_id").asText(""), entry.path("secret_access_key").asText(""), true);
        return new Location(uri, Optional.of(new S3Access(secretName, settings)));
    }

    private static S3Access fromServiceAccount(ResourceStore store, String namespace, String account) throws ModelLoadException {
        var sa = store.find(new ResourceKey(CoreKinds.SERVICE_ACCOUNT, namespace, account)).orElseThrow(() -> new ModelLoadException(
                "predictor.serviceAccountName: service account '" + account + "' not found in namespace '" + namespace
                        + "'; create it (apiVersion: v1, kind: ServiceAccount) with the secret that holds the S3 credentials under secrets"));
        for (var ref : sa.spec().path("secrets")) {
            var name = ref.path("name").asText("");
            var secret = store.find(new ResourceKey(CoreKinds.SECRET, namespace, name));
            if (secret.isEmpty()) {
                throw new ModelLoadException("service account '" + account + "' lists secret '" + name + "', which is not found in namespace '"
                        + namespace + "'");
            }
            var entries = CoreKinds.entries(secret.get());
            if (!entries.containsKey("AWS_ACCESS_KEY_ID") && !annotations(secret.get()).containsKey(ANNOTATION + "s3-endpoint")) continue;
            return fromSecret(name, secret.get(), entries);
        }
        throw new ModelLoadException("service account '" + account + "' lists no secret with S3 credentials (AWS_ACCESS_KEY_ID and "
                + "AWS_SECRET_ACCESS_KEY, annotated " + ANNOTATION + "s3-endpoint)");
    }

    private static S3Access fromSecret(String name, Resource secret, Map<String, byte[]> entries) throws ModelLoadException {
        // Without keys the S3 client would fall back to the server's own credentials (its environment, its profile).
        if (text(entries.get("AWS_ACCESS_KEY_ID")).isEmpty() || text(entries.get("AWS_SECRET_ACCESS_KEY")).isEmpty()) {
            throw new ModelLoadException("secret '" + name + "' needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to read the model from S3");
        }
        var a = annotations(secret);
        var host = a.getOrDefault(ANNOTATION + "s3-endpoint", "");
        String endpoint = "";
        if (!host.isEmpty()) {
            boolean https = !"0".equals(a.getOrDefault(ANNOTATION + "s3-usehttps", "1"));
            endpoint = host.contains("://") ? host : (https ? "https://" : "http://") + host;
        }
        var access = text(entries.get("AWS_ACCESS_KEY_ID"));
        var key = text(entries.get("AWS_SECRET_ACCESS_KEY"));
        return new S3Access(name, new CapstanConfig.S3Settings(endpoint, a.getOrDefault(ANNOTATION + "s3-region", ""), "", access, key, true));
    }

    private static Map<String, String> annotations(Resource r) {
        return r.metadata().annotations();
    }

    private static String text(byte[] value) {
        return value == null ? "" : new String(value, StandardCharsets.UTF_8);
    }
}
