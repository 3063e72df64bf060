package io.capstan.backend;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything {@link LocalBackend} persists about a workload in {@code state.json}: the public state plus what
 * recovery needs (queue order, the process identity, and a stop that was requested but maybe not finished).
 */
record WorkloadRecord(WorkloadState state, long sequence, Instant queuedAt, Optional<Launch> launch, Optional<Stop> stop) {

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

    WorkloadRecord {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(queuedAt, "queuedAt");
        Objects.requireNonNull(launch, "launch");
        Objects.requireNonNull(stop, "stop");
    }

    WorkloadPhase phase() {
        return state.phase();
    }

    WorkloadRecord withState(WorkloadState s) {
        return new WorkloadRecord(s, sequence, queuedAt, launch, stop);
    }

    WorkloadRecord withLaunch(Launch l, WorkloadState s) {
        return new WorkloadRecord(s, sequence, queuedAt, Optional.of(l), stop);
    }

    WorkloadRecord withStop(Stop s) {
        return new WorkloadRecord(state, sequence, queuedAt, launch, Optional.of(s));
    }
}
