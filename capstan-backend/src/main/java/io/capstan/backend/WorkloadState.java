package io.capstan.backend;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Observed state of a workload.
 *
 * @param message  why it is in this phase, in a sentence: "exited with code 3", "killed after timeout PT5S"
 * @param gpus     GPU indices assigned through CUDA_VISIBLE_DEVICES, empty when none
 * @param quotaWait while QUEUED because its namespace's quota is full, why, naming the quota, such as
 *                 {@code namespace team-a: requests.cpu 3.5 of 4 in use, this workload asks 1}; otherwise empty
 */
public record WorkloadState(String id, WorkloadPhase phase, Optional<Integer> exitCode, String message,
                            Optional<Instant> startedAt, Optional<Instant> finishedAt, List<Integer> gpus, Optional<String> quotaWait) {
    public WorkloadState {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(exitCode, "exitCode");
        message = message == null ? "" : message;
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        gpus = List.copyOf(gpus);
        Objects.requireNonNull(quotaWait, "quotaWait");
    }

    /** A state that does not wait for quota. */
    public WorkloadState(String id, WorkloadPhase phase, Optional<Integer> exitCode, String message,
                         Optional<Instant> startedAt, Optional<Instant> finishedAt, List<Integer> gpus) {
        this(id, phase, exitCode, message, startedAt, finishedAt, gpus, Optional.empty());
    }
}
