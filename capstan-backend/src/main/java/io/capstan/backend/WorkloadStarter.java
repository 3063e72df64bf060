package io.capstan.backend;

import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the workloads {@link Admission} let in, through the {@link SessionLauncher}, and records each as RUNNING
 * with its pid before anyone can see it running; then hands it to the {@link Watcher}.
 */
final class WorkloadStarter {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);

    private final WorkloadTable table;
    private final Admission admission;
    private final SessionLauncher launcher;
    private final Watcher watcher;

    WorkloadStarter(WorkloadTable table, Admission admission, SessionLauncher launcher, Watcher watcher) {
        this.table = table;
        this.admission = admission;
        this.launcher = launcher;
        this.watcher = watcher;
    }

    /** Starts what {@link Admission#admitLocked} admitted; the first failure to record a start is thrown after the rest. */
    void startAll(List<LocalWorkload> admitted) {
        TransientException failure = null;
        var todo = new ArrayDeque<>(admitted);
        while (!todo.isEmpty()) {
            try {
                todo.addAll(start(todo.poll()));
            } catch (TransientException ex) {
                if (failure == null) failure = ex;
            }
        }
        if (failure != null) throw failure;
    }

    /**
     * Spawns an admitted workload without holding the lock, then records it as RUNNING, pid included, before
     * anyone can see it running. Returns what a failed start let in.
     */
    private List<LocalWorkload> start(LocalWorkload e) {
        SessionLauncher.Started started = null;
        String failure = null;
        try {
            if (e.mayHaveRun) {
                // An exit code left by an earlier start must not be taken for this one's.
                Files.deleteIfExists(e.dir.exitCodeFile());
                e.mayHaveRun = false;
            }
            started = launcher.start(e.spec, e.dir, e.gpus);
        } catch (IOException ex) {
            failure = "cannot clear the old exit code of workload '%s': %s".formatted(e.id(), ex);
        } catch (PermanentFailureException ex) {
            failure = ex.getMessage();
        } catch (RuntimeException ex) {
            failure = "workload '%s' could not be started: %s".formatted(e.id(), ex);
        }
        table.lock.lock();
        try {
            e.starting = false;
            table.startDone.signalAll();
            if (started == null) {
                admission.release(e);
                table.finishLocked(e, ExitStatus.stopped(WorkloadPhase.FAILED, failure));
                return admission.admitLocked();
            }
            var launch = started.launch();
            e.child = started.child().orElse(null);
            var before = e.record;
            e.record = e.record.withLaunch(launch, new WorkloadState(e.id(), WorkloadPhase.RUNNING, Optional.empty(),
                    "running as pid " + launch.pid() + (started.note().isEmpty() ? "" : " " + started.note()), Optional.of(table.clock.instant()), Optional.empty(), e.gpus));
            try {
                table.persist(e);
            } catch (UncheckedIOException ex) {
                // Without a record of the pid the process could never be re-adopted, so it must not run.
                ProcessHandle.of(launch.pid()).ifPresent(h -> ProcessTree.terminate(h, Duration.ZERO));
                admission.release(e);
                e.child = null;
                e.record = before;
                throw new TransientException("workload '%s' was not started: %s".formatted(e.id(), ex.getMessage()), ex);
            }
            // Debug: a pipeline starts thousands of steps, and each one's state is in its folder and its owner's status.
            log.atDebug().addKeyValue("workload", e.id()).addKeyValue("pid", launch.pid()).addKeyValue("gpus", e.gpus).log("workload started");
            watcher.watch(e);
            return List.of();
        } finally {
            table.lock.unlock();
        }
    }
}
