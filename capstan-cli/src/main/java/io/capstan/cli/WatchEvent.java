package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Objects;
import java.util.Optional;

/** One change from a watch stream. */
record WatchEvent(Type type, JsonNode object) {
    WatchEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(object, "object");
    }

    enum Type {
        ADDED("ADDED"), MODIFIED("MODIFIED"), DELETED("DELETED");

        private final String wireName;

        Type(String wireName) {
            this.wireName = wireName;
        }

        String wireName() {
            return wireName;
        }

        static Optional<Type> find(String wireName) {
            for (var t : values()) {
                if (t.wireName.equals(wireName)) return Optional.of(t);
            }
            return Optional.empty();
        }
    }
}
