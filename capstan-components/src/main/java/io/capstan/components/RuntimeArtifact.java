package io.capstan.components;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One artifact of the KFP executor contract, as it appears under {@code inputs.artifacts} or {@code outputs.artifacts}.
 *
 * @param key         the input or output name it is bound to, such as {@code dataset}
 * @param name        the artifact's own name; may be empty
 * @param schemaTitle its type, such as {@code system.Dataset}; may be empty for inputs
 * @param uri         where it lives; built-ins read and write only {@code file://} URIs and plain absolute paths
 * @param metadata    the artifact's metadata as JSON values
 */
record RuntimeArtifact(String key, String name, String schemaTitle, String uri, Map<String, JsonNode> metadata) {
    RuntimeArtifact {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(schemaTitle, "schemaTitle");
        Objects.requireNonNull(uri, "uri");
        metadata = Map.copyOf(metadata);
    }

    static RuntimeArtifact of(String key, JsonNode node, String field) {
        if (!node.isObject()) throw new InvalidSpecException(field + " must be an object with a 'uri'");
        var uri = node.path("uri");
        if (!uri.isTextual() || uri.asText().isBlank()) {
            throw new InvalidSpecException(field + ".uri is missing; the engine must give every artifact a file:// URI");
        }
        var metadata = new LinkedHashMap<String, JsonNode>();
        node.path("metadata").properties().forEach(e -> metadata.put(e.getKey(), e.getValue()));
        return new RuntimeArtifact(key, node.path("name").asText(""),
                node.path("type").path("schemaTitle").asText(""), uri.asText(), metadata);
    }

    /** The local path this artifact's URI names. */
    Path path() {
        if (uri.startsWith("/")) return Path.of(uri);
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            throw new InvalidSpecException("artifact '%s' has uri '%s', which is not a valid URI; use file:///absolute/path"
                    .formatted(key, uri));
        }
        if (!"file".equalsIgnoreCase(parsed.getScheme())) {
            throw new InvalidSpecException(("artifact '%s' has uri '%s', which is not local; built-in components read and "
                    + "write only file:// URIs, so set the pipeline root to a local directory").formatted(key, uri));
        }
        return Path.of(parsed);
    }

    /** The path of an input artifact, which must be an existing regular file. */
    Path existingFile() {
        var path = path();
        if (!Files.isRegularFile(path)) {
            throw new InvalidSpecException("input artifact '%s' at %s is %s; connect it to an upstream output that wrote a file"
                    .formatted(key, path, Files.isDirectory(path) ? "a directory, not a file" : "missing"));
        }
        return path;
    }

    /** The path of an input artifact, which must be an existing directory. */
    Path existingDirectory() {
        var path = path();
        if (!Files.isDirectory(path)) {
            throw new InvalidSpecException("input artifact '%s' at %s is %s; connect it to a model output of a built-in trainer"
                    .formatted(key, path, Files.exists(path) ? "a file, not a directory" : "missing"));
        }
        return path;
    }
}
