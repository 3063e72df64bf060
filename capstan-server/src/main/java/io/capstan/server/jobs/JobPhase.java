package io.capstan.server.jobs;

/** Phases of a Job, written to {@code status.phase} by their names. */
public enum JobPhase {
    Pending, Running, Succeeded, Failed;

    public boolean isTerminal() {
        return this == Succeeded || this == Failed;
    }

    static JobPhase ofStatus(String phase) {
        for (var p : values()) if (p.name().equals(phase)) return p;
        return Pending;
    }
}
