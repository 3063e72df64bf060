package io.capstan.metadata;

import java.util.Map;

/** The type of executions, as MLMD's {@code ExecutionType}; {@code properties} declares each property's value type. */
public record ExecutionType(long id, String name, Map<String, PropertyType> properties) implements MetadataType {
    public ExecutionType {
        Checks.id("execution type id", id);
        name = Checks.name("execution type name", name);
        properties = Checks.properties("execution type '" + name + "' property", properties);
    }

    public static ExecutionType of(String name, Map<String, PropertyType> properties) {
        return new ExecutionType(0, name, properties);
    }
}
