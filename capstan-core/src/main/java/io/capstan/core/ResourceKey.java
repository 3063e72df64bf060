package io.capstan.core;

import java.util.Objects;

/** Identifies one resource: kind, namespace and name. */
public record ResourceKey(String kind, String namespace, String name) {
    public ResourceKey {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    @Override
    public String toString() {
        return kind + " " + namespace + "/" + name;
    }
}
