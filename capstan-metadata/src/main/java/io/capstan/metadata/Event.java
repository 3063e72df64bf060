package io.capstan.metadata;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An edge of the lineage graph, as MLMD's {@code Event}: {@code executionId} used {@code artifactId} as
 * {@code type}, in the slot {@code path}. At most one event exists per (artifact, execution, type).
 */
public record Event(long artifactId, long executionId, EventType type, List<PathStep> path, Instant time) {
    public Event {
        if (artifactId <= 0) throw new io.capstan.core.InvalidSpecException("event artifactId must be > 0, got " + artifactId);
        if (executionId <= 0) throw new io.capstan.core.InvalidSpecException("event executionId must be > 0, got " + executionId);
        Objects.requireNonNull(type, "type");
        path = List.copyOf(path);
        Objects.requireNonNull(time, "time");
    }

    /** An event with no path, timed by the store when it is put. */
    public static Event of(long artifactId, long executionId, EventType type) {
        return new Event(artifactId, executionId, type, List.of(), Instant.EPOCH);
    }

    public Event withPath(List<PathStep> path) {
        return new Event(artifactId, executionId, type, path, time);
    }
}
