package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/** The phases a resource's {@code status.phase} reports. */
enum Phase {
    PENDING("Pending"), RUNNING("Running"), SUCCEEDED("Succeeded"), FAILED("Failed");

    private final String wireName;

    Phase(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }

    boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED;
    }

    static Optional<Phase> find(String wireName) {
        for (var p : values()) {
            if (p.wireName.equals(wireName)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** The phase of a resource, empty when it has no status yet or reports a phase this client does not know. */
    static Optional<Phase> of(JsonNode resource) {
        return find(resource.path("status").path("phase").asText(""));
    }
}
