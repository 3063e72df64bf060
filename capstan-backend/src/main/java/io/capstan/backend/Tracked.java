package io.capstan.backend;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything {@link LocalBackend} persists about a workload in {@code state.json}: the public state plus what
 * recovery needs (queue order, the process identity, and a stop that was requested but maybe not finished).
 */
record Tracked(WorkloadState state, long sequence, Instant queuedAt, Optional<Launch> launch, Optional<Stop> stop) {

    /** The wrapper process; {@code processStart} defends against the pid being reused by another process. */
    record Launch(long pid, Optional<Instant> processStart) {
        Launch {
            Objects.requireNonNull(processStart, "processStart");
        }
    }

    /** A cancel or timeout that is killing the process; its phase wins over whatever exit code follows. */
    record Stop(WorkloadPhase phase, String message) {
        Stop {
            Objects.requireNonNull(phase, "phase");
            Objects.requireNonNull(message, "message");
        }
    }

    Tracked {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(queuedAt, "queuedAt");
        Objects.requireNonNull(launch, "launch");
        Objects.requireNonNull(stop, "stop");
    }

    WorkloadPhase phase() {
        return state.phase();
    }

    Tracked withState(WorkloadState s) {
        return new Tracked(s, sequence, queuedAt, launch, stop);
    }

    Tracked withLaunch(Launch l, WorkloadState s) {
        return new Tracked(s, sequence, queuedAt, Optional.of(l), stop);
    }

    Tracked withStop(Stop s) {
        return new Tracked(state, sequence, queuedAt, launch, Optional.of(s));
    }
}
