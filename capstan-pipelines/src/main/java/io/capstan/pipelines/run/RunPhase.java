package io.capstan.pipelines.run;

/** Phases of a PipelineRun, written to {@code status.phase} by their wire names. */
public enum RunPhase {
    PENDING("Pending"), RUNNING("Running"), SUCCEEDED("Succeeded"), FAILED("Failed"), CANCELLED("Cancelled");

    private final String wireName;

    RunPhase(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public static RunPhase ofWire(String phase) {
        for (var p : values()) if (p.wireName.equals(phase)) return p;
        return PENDING;
    }
}
