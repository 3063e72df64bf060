package io.capstan.metadata;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * An execution (one run of a component or step), as MLMD's {@code Execution}. As in MLMD's protos, {@code id} 0
 * means "not stored yet" and an empty {@code name} or {@code externalId} means unset; the store sets both times.
 * A non-empty name is unique within its type.
 */
public record Execution(long id, String type, String name, ExecutionState lastKnownState, String externalId,
                        Map<String, PropertyValue> properties, Map<String, PropertyValue> customProperties,
                        Instant createTime, Instant updateTime) {
    public Execution {
        Checks.id("execution id", id);
        type = Checks.name("execution type", type);
        name = Checks.optional("execution name", name, Checks.MAX_NAME);
        Objects.requireNonNull(lastKnownState, "lastKnownState");
        externalId = Checks.optional("execution externalId", externalId, Checks.MAX_NAME);
        properties = Checks.properties("execution property", properties);
        customProperties = Checks.properties("execution custom property", customProperties);
        Objects.requireNonNull(createTime, "createTime");
        Objects.requireNonNull(updateTime, "updateTime");
    }

    /** A new, unnamed execution of {@code type} in state {@link ExecutionState#NEW}. */
    public static Execution of(String type) {
        return new Execution(0, type, "", ExecutionState.NEW, "", Map.of(), Map.of(), Instant.EPOCH, Instant.EPOCH);
    }

    public boolean isStored() {
        return id != 0;
    }

    public Execution withName(String name) {
        return new Execution(id, type, name, lastKnownState, externalId, properties, customProperties, createTime, updateTime);
    }

    public Execution withState(ExecutionState state) {
        return new Execution(id, type, name, state, externalId, properties, customProperties, createTime, updateTime);
    }

    public Execution withExternalId(String externalId) {
        return new Execution(id, type, name, lastKnownState, externalId, properties, customProperties, createTime, updateTime);
    }

    public Execution withProperty(String key, PropertyValue value) {
        return new Execution(id, type, name, lastKnownState, externalId, Checks.with(properties, key, value),
                customProperties, createTime, updateTime);
    }

    public Execution withCustomProperty(String key, PropertyValue value) {
        return new Execution(id, type, name, lastKnownState, externalId, properties,
                Checks.with(customProperties, key, value), createTime, updateTime);
    }

    Execution stored(long id, Instant createTime, Instant updateTime) {
        return new Execution(id, type, name, lastKnownState, externalId, properties, customProperties, createTime, updateTime);
    }
}
