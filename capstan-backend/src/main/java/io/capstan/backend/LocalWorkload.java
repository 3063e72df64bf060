package io.capstan.backend;

import java.time.Clock;
import java.util.List;

/**
 * One workload of a {@link LocalBackend}; {@code record}, {@code mayHaveRun}, {@code starting} and {@code gpus} are
 * guarded by {@link WorkloadTable#lock}, the rest is immutable or thread-safe.
 */
final class LocalWorkload {
    final WorkloadSpec spec;
    final WorkloadDir dir;
    final LogIndex logs;
    WorkloadRecord record;
    /** The launch supervisor's record of the process, when this backend started it through one. */
    volatile LaunchSupervisor.Child child;
    /** Read from disk as queued: it may have been started once already by a server that then died. */
    boolean mayHaveRun;
    /** Admitted and being spawned outside the lock; still QUEUED to readers. */
    boolean starting;
    /** The GPUs allocated at admission. */
    List<Integer> gpus = List.of();

    LocalWorkload(WorkloadSpec spec, WorkloadDir dir, WorkloadRecord record, Clock clock) {
        this.spec = spec;
        this.dir = dir;
        this.record = record;
        this.logs = new LogIndex(dir.stdout(), dir.stderr(), clock);
    }

    String id() {
        return spec.id();
    }
}
