package io.capstan.metadata;

/** The value type a type declares for one of its properties, as MLMD's {@code PropertyType}; stored by name. */
public enum PropertyType {
    INT, DOUBLE, STRING, STRUCT, BOOLEAN
}
