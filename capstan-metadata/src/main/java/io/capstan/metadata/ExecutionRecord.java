package io.capstan.metadata;

import java.util.List;
import java.util.Objects;

/** One execution to record with its artifacts and contexts; see {@link MetadataStore#putExecutions(List)}. */
public record ExecutionRecord(Execution execution, List<ArtifactAndEvent> artifacts, List<Context> contexts) {
    public ExecutionRecord {
        Objects.requireNonNull(execution, "execution");
        artifacts = List.copyOf(artifacts);
        contexts = List.copyOf(contexts);
    }
}
