package io.capstan.backend;

/**
 * Where a workload is in its life. LOST means its process vanished while the server was down, or it ran on another
 * replica that gave it up or is gone.
 */
public enum WorkloadPhase {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST;

    public boolean isTerminal() {
        return this != QUEUED && this != RUNNING;
    }
}
