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
 */
public record WorkloadState(String id, WorkloadPhase phase, Optional<Integer> exitCode, String message,
                            Optional<Instant> startedAt, Optional<Instant> finishedAt, List<Integer> gpus) {
    public WorkloadState {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(exitCode, "exitCode");
        message = message == null ? "" : message;
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        gpus = List.copyOf(gpus);
    }
}
