package io.capstan.metadata;

/**
 * How an execution used an artifact, as MLMD's {@code Event.Type}. Lineage follows input events from an artifact to
 * the executions that read it, and output events from an artifact to the execution that wrote it.
 */
public enum EventType {
    INPUT, OUTPUT, DECLARED_INPUT, DECLARED_OUTPUT, INTERNAL_INPUT, INTERNAL_OUTPUT, PENDING_OUTPUT;

    /** True for the types through which an execution reads an artifact. */
    public boolean isInput() {
        return this == INPUT || this == DECLARED_INPUT || this == INTERNAL_INPUT;
    }

    /** True for the types through which an execution writes (or is about to write) an artifact. */
    public boolean isOutput() {
        return !isInput();
    }
}
