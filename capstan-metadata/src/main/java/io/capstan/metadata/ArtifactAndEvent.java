package io.capstan.metadata;

import java.util.List;
import java.util.Objects;

/**
 * An artifact (new or stored) and how the execution being recorded used it; see
 * {@link MetadataStore#putExecution(Execution, List, List)}.
 */
public record ArtifactAndEvent(Artifact artifact, EventType type, List<PathStep> path) {
    public ArtifactAndEvent {
        Objects.requireNonNull(artifact, "artifact");
        Objects.requireNonNull(type, "type");
        path = List.copyOf(path);
    }

    public static ArtifactAndEvent input(Artifact artifact, String key) {
        return new ArtifactAndEvent(artifact, EventType.INPUT, List.of(PathStep.key(key)));
    }

    public static ArtifactAndEvent output(Artifact artifact, String key) {
        return new ArtifactAndEvent(artifact, EventType.OUTPUT, List.of(PathStep.key(key)));
    }
}
