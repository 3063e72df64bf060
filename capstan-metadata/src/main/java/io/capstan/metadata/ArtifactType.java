package io.capstan.metadata;

import java.util.Map;

/** The type of artifacts, as MLMD's {@code ArtifactType}; {@code properties} declares each property's value type. */
public record ArtifactType(long id, String name, Map<String, PropertyType> properties) implements MetadataType {
    public ArtifactType {
        Checks.id("artifact type id", id);
        name = Checks.name("artifact type name", name);
        properties = Checks.properties("artifact type '" + name + "' property", properties);
    }

    public static ArtifactType of(String name, Map<String, PropertyType> properties) {
        return new ArtifactType(0, name, properties);
    }
}
