package io.capstan.metadata;

import java.util.List;

/** What {@link MetadataStore#putExecution(Execution, List, List)} stored, in the order it was given. */
public record RecordedExecution(Execution execution, List<Artifact> artifacts, List<Context> contexts) {
    public RecordedExecution {
        java.util.Objects.requireNonNull(execution, "execution");
        artifacts = List.copyOf(artifacts);
        contexts = List.copyOf(contexts);
    }
}
