package io.capstan.pipelines.run;

/** The state of one task of a run, written to {@code status.tasks[path].state} by its wire name. */
public enum TaskState {
    PENDING("PENDING"), RUNNING("RUNNING"), SUCCEEDED("SUCCEEDED"), FAILED("FAILED"), SKIPPED("SKIPPED"),
    CACHED("CACHED"), CANCELLED("CANCELLED");

    private final String wireName;

    TaskState(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public boolean isTerminal() {
        return this != PENDING && this != RUNNING;
    }

    /** Whether downstream tasks may use its outputs. */
    public boolean isSuccess() {
        return this == SUCCEEDED || this == CACHED;
    }

    static TaskState ofWire(String name) {
        for (var s : values()) if (s.wireName.equals(name)) return s;
        return PENDING;
    }
}
