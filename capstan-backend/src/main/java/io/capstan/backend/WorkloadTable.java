package io.capstan.backend;

import io.capstan.core.NotFoundException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workloads of one {@link LocalBackend} and the lock that guards them, shared by its admission, start, watch
 * and recovery parts; also where a workload's record is persisted and where it reaches a terminal phase.
 */
final class WorkloadTable {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);

    final LocalBackend.Options options;
    final Clock clock;
    final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a workload leaves {@link LocalWorkload#starting}. */
    final Condition startDone = lock.newCondition();
    // Guarded by lock.
    final Map<String, LocalWorkload> workloads = new LinkedHashMap<>();
    long nextSequence;
    boolean closed;

    WorkloadTable(LocalBackend.Options options) {
        this.options = options;
        this.clock = options.clock();
    }

    LocalWorkload entry(String id) {
        Objects.requireNonNull(id, "workloadId");
        lock.lock();
        try {
            var e = workloads.get(id);
            if (e == null) throw new NotFoundException("workload '%s' does not exist on this backend; check the id with list()".formatted(id));
            return e;
        } finally {
            lock.unlock();
        }
    }

    WorkloadPhase phase(LocalWorkload e) {
        lock.lock();
        try {
            return e.record.phase();
        } finally {
            lock.unlock();
        }
    }

    WorkloadState state(LocalWorkload e) {
        lock.lock();
        try {
            return e.record.state();
        } finally {
            lock.unlock();
        }
    }

    void ensureOpen() {
        if (closed) throw new IllegalStateException("this LocalBackend on " + options.stateDir() + " is closed; create a new one");
    }

    void persist(LocalWorkload e) {
        e.dir.writeState(e.record);
    }

    void finishLocked(LocalWorkload e, ExitStatus outcome) {
        var s = e.record.state();
        var message = outcome.message();
        // A workload that was meant for a container but ran on the host says why it ran there, in its final message too:
        // a trial or step that finished on the host shows that its image could not be had.
        int host = s.message().indexOf(" on the host: ");
        if ((outcome.phase() == WorkloadPhase.FAILED || outcome.phase() == WorkloadPhase.SUCCEEDED)
                && s.phase() == WorkloadPhase.RUNNING && host >= 0) {
            message += " (it ran " + s.message().substring(host + 1) + ")";
        }
        e.record = e.record.withState(new WorkloadState(e.id(), outcome.phase(), outcome.exitCode(), message,
                s.startedAt(), Optional.of(clock.instant()), s.gpus()));
        persist(e);
        // Only what went wrong at info: success is the common case, and is recorded in the folder and the owner's status.
        log.atLevel(outcome.phase() == WorkloadPhase.SUCCEEDED ? org.slf4j.event.Level.DEBUG : org.slf4j.event.Level.INFO)
                .addKeyValue("workload", e.id()).addKeyValue("phase", outcome.phase()).addKeyValue("message", outcome.message())
                .log("workload finished");
        try {
            options.onFinish().accept(e.record.state());
        } catch (RuntimeException ex) {
            log.atWarn().addKeyValue("workload", e.id()).setCause(ex).log("the onFinish listener failed; its controller will notice on its next poll");
        }
    }
}
