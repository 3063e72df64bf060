package io.capstan.metadata;

import java.util.Map;

/** The type of contexts, as MLMD's {@code ContextType}; {@code properties} declares each property's value type. */
public record ContextType(long id, String name, Map<String, PropertyType> properties) implements MetadataType {
    public ContextType {
        Checks.id("context type id", id);
        name = Checks.name("context type name", name);
        properties = Checks.properties("context type '" + name + "' property", properties);
    }

    public static ContextType of(String name, Map<String, PropertyType> properties) {
        return new ContextType(0, name, properties);
    }
}
