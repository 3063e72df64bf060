package io.capstan.tuning;

/** Phases of an Experiment, written to {@code status.phase}; Katib's condition types carry the same names. */
enum ExperimentPhase {
    Created, Running, Restarting, Succeeded, Failed;

    boolean isTerminal() {
        return this == Succeeded || this == Failed;
    }

    static ExperimentPhase ofStatus(String phase) {
        for (var p : values()) if (p.name().equals(phase)) return p;
        return Created;
    }
}
