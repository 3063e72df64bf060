package io.capstan.metadata;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A group of artifacts and executions (a pipeline run, an experiment, a project), as MLMD's {@code Context}. The
 * name is required and unique within its type; {@code id} 0 means "not stored yet" and the store sets both times.
 */
public record Context(long id, String type, String name, String externalId,
                      Map<String, PropertyValue> properties, Map<String, PropertyValue> customProperties,
                      Instant createTime, Instant updateTime) {
    public Context {
        Checks.id("context id", id);
        type = Checks.name("context type", type);
        name = Checks.name("context name", name);
        externalId = Checks.optional("context externalId", externalId, Checks.MAX_NAME);
        properties = Checks.properties("context property", properties);
        customProperties = Checks.properties("context custom property", customProperties);
        Objects.requireNonNull(createTime, "createTime");
        Objects.requireNonNull(updateTime, "updateTime");
    }

    public static Context of(String type, String name) {
        return new Context(0, type, name, "", Map.of(), Map.of(), Instant.EPOCH, Instant.EPOCH);
    }

    public boolean isStored() {
        return id != 0;
    }

    public Context withExternalId(String externalId) {
        return new Context(id, type, name, externalId, properties, customProperties, createTime, updateTime);
    }

    public Context withProperty(String key, PropertyValue value) {
        return new Context(id, type, name, externalId, Checks.with(properties, key, value), customProperties,
                createTime, updateTime);
    }

    public Context withCustomProperty(String key, PropertyValue value) {
        return new Context(id, type, name, externalId, properties, Checks.with(customProperties, key, value),
                createTime, updateTime);
    }

    Context stored(long id, Instant createTime, Instant updateTime) {
        return new Context(id, type, name, externalId, properties, customProperties, createTime, updateTime);
    }
}
