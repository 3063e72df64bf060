package io.capstan.tuning;

import java.util.Optional;

/** What became of a trial, written to {@code status.phase} and mirrored by a condition of the same name. */
enum TrialPhase {
    Created, Running, Succeeded, Failed, MetricsUnavailable, EarlyStopped, Killed;

    boolean isTerminal() {
        return this != Created && this != Running;
    }

    /** Failures, as counted against {@code maxFailedTrialCount}. */
    boolean isFailure() {
        return this == Failed || this == MetricsUnavailable;
    }

    static TrialPhase ofStatus(String phase) {
        return find(phase).orElse(Created);
    }

    static Optional<TrialPhase> find(String phase) {
        for (var p : values()) if (p.name().equals(phase)) return Optional.of(p);
        return Optional.empty();
    }
}
