package io.capstan.metadata;

/** The last known state of an execution, as MLMD's {@code Execution.State}. */
public enum ExecutionState {
    UNKNOWN, NEW, RUNNING, COMPLETE, FAILED, CACHED, CANCELED;

    public boolean isTerminal() {
        return this == COMPLETE || this == FAILED || this == CACHED || this == CANCELED;
    }
}
