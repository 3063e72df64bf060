package io.capstan.serving.api;

import java.util.List;

/** Server metadata (OIP {@code $metadata_server_response}). */
public record ServerMetadata(String name, String version, List<String> extensions) {
    public ServerMetadata {
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(version, "version");
        extensions = extensions == null ? List.of() : List.copyOf(extensions);
    }
}
