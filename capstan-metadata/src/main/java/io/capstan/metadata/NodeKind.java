package io.capstan.metadata;

/** The three kinds of typed nodes; the name is what md_type.kind and md_property.node_kind store. */
enum NodeKind {
    ARTIFACT("artifact"), EXECUTION("execution"), CONTEXT("context");

    private final String label;

    NodeKind(String label) {
        this.label = label;
    }

    /** The lower-case word used in messages. */
    String label() {
        return label;
    }

    static NodeKind of(MetadataType type) {
        return switch (type) {
            case ArtifactType t -> ARTIFACT;
            case ExecutionType t -> EXECUTION;
            case ContextType t -> CONTEXT;
        };
    }
}
