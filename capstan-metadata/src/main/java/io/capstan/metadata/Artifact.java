package io.capstan.metadata;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * An artifact, as MLMD's {@code Artifact}. As in MLMD's protos, {@code id} 0 means "not stored yet" and an empty
 * {@code name} or {@code externalId} means unset; the store sets both times. {@code properties} must match the
 * type's declarations, while {@code customProperties} are free-form. A non-empty name is unique within its type.
 */
public record Artifact(long id, String type, String uri, String name, ArtifactState state, String externalId,
                       Map<String, PropertyValue> properties, Map<String, PropertyValue> customProperties,
                       Instant createTime, Instant updateTime) {
    public Artifact {
        Checks.id("artifact id", id);
        type = Checks.name("artifact type", type);
        uri = Checks.optional("artifact uri", uri, Checks.MAX_URI);
        name = Checks.optional("artifact name", name, Checks.MAX_NAME);
        Objects.requireNonNull(state, "state");
        externalId = Checks.optional("artifact externalId", externalId, Checks.MAX_NAME);
        properties = Checks.properties("artifact property", properties);
        customProperties = Checks.properties("artifact custom property", customProperties);
        Objects.requireNonNull(createTime, "createTime");
        Objects.requireNonNull(updateTime, "updateTime");
    }

    /** A new, unnamed artifact of {@code type} at {@code uri}, in state {@link ArtifactState#UNKNOWN}. */
    public static Artifact of(String type, String uri) {
        return new Artifact(0, type, uri, "", ArtifactState.UNKNOWN, "", Map.of(), Map.of(), Instant.EPOCH, Instant.EPOCH);
    }

    public boolean isStored() {
        return id != 0;
    }

    public Artifact withName(String name) {
        return new Artifact(id, type, uri, name, state, externalId, properties, customProperties, createTime, updateTime);
    }

    public Artifact withUri(String uri) {
        return new Artifact(id, type, uri, name, state, externalId, properties, customProperties, createTime, updateTime);
    }

    public Artifact withState(ArtifactState state) {
        return new Artifact(id, type, uri, name, state, externalId, properties, customProperties, createTime, updateTime);
    }

    public Artifact withExternalId(String externalId) {
        return new Artifact(id, type, uri, name, state, externalId, properties, customProperties, createTime, updateTime);
    }

    public Artifact withProperty(String key, PropertyValue value) {
        return new Artifact(id, type, uri, name, state, externalId, Checks.with(properties, key, value),
                customProperties, createTime, updateTime);
    }

    public Artifact withCustomProperty(String key, PropertyValue value) {
        return new Artifact(id, type, uri, name, state, externalId, properties,
                Checks.with(customProperties, key, value), createTime, updateTime);
    }

    Artifact stored(long id, Instant createTime, Instant updateTime) {
        return new Artifact(id, type, uri, name, state, externalId, properties, customProperties, createTime, updateTime);
    }
}
