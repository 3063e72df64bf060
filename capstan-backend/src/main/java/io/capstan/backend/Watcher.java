package io.capstan.backend;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches running workloads until they end, one virtual thread each: waits on the launch supervisor's reports or
 * polls the pid, enforces timeouts, stops workloads on cancel, seals their logs and records the outcome, then lets
 * the next queued workloads in. Also reads the logs for {@link LocalBackend#tail} and {@link LocalBackend#follow}.
 */
final class Watcher {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration DRAIN = Duration.ofSeconds(2);
    private static final int MAX_FOLLOW_LINES = 10_000;

    private final WorkloadTable table;
    private final Admission admission;
    /** Starts what a freed slot let in; see {@link WorkloadStarter#startAll}. */
    private final Consumer<List<LocalWorkload>> startAdmitted;
    private final Map<String, Thread> watchers = new ConcurrentHashMap<>();
    private final ContainerRunner containers;

    Watcher(WorkloadTable table, Admission admission, Consumer<List<LocalWorkload>> startAdmitted, ContainerRunner containers) {
        this.table = table;
        this.containers = containers;
        this.admission = admission;
        this.startAdmitted = startAdmitted;
    }

    List<LogLine> tail(LocalWorkload e, int maxLines) {
        e.logs.refresh(false);
        long from = Math.max(0, e.logs.lineCount() - maxLines);
        return e.logs.read(from, maxLines);
    }

    List<LogLine> follow(LocalWorkload e, long fromLine, Duration wait) {
        long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
        while (true) {
            boolean terminal = table.phase(e).isTerminal();
            e.logs.refresh(false);
            if (e.logs.lineCount() > fromLine) return e.logs.read(fromLine, MAX_FOLLOW_LINES);
            long left = deadline - System.nanoTime();
            if (terminal || left <= 0) return List.of();
            try {
                e.logs.awaitMoreThan(fromLine, Duration.ofNanos(Math.min(left, POLL.toNanos() / 2)));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return List.of();
            }
        }
    }

    /** Interrupts every watcher thread and waits up to two seconds for each. */
    void close() {
        var threads = List.copyOf(watchers.values());
        threads.forEach(Thread::interrupt);
        for (var t : threads) {
            try {
                if (!t.join(Duration.ofSeconds(2))) log.atWarn().addKeyValue("thread", t.getName()).log("watcher did not stop in time");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    void watch(LocalWorkload e) {
        var t = Thread.ofVirtual().name("capstan-watch-" + e.id()).unstarted(() -> {
            try {
                watchLoop(e);
            } catch (RuntimeException ex) {
                log.atError().addKeyValue("workload", e.id()).setCause(ex).log("watcher failed; the workload is no longer observed");
            } finally {
                watchers.remove(e.id(), Thread.currentThread());
            }
        });
        watchers.put(e.id(), t);
        t.start();
    }

    private void watchLoop(LocalWorkload e) {
        WorkloadRecord t;
        table.lock.lock();
        try {
            t = e.record;
        } finally {
            table.lock.unlock();
        }
        var launch = t.launch().orElseThrow();
        Optional<Instant> deadline = e.spec.timeout().flatMap(to -> t.state().startedAt().map(s -> s.plus(to)));
        var child = e.child;
        if (child != null && watchSupervised(e, launch, child, deadline)) return;
        Optional<ProcessHandle> handle = ProcessHandle.of(launch.pid());
        while (!Thread.currentThread().isInterrupted()) {
            table.lock.lock();
            try {
                if (table.closed || e.record.phase().isTerminal() || e.record.stop().isPresent()) return;
            } finally {
                table.lock.unlock();
            }
            boolean running = handle.map(ProcessTree::isRunning).orElse(false);
            if (!running || Files.exists(e.dir.exitCodeFile())) {
                settleExited(e, launch, handle.filter(h -> running));
                return;
            }
            Instant now = table.clock.instant();
            if (deadline.isPresent() && !now.isBefore(deadline.get())) {
                stop(e, new WorkloadRecord.Stop(WorkloadPhase.FAILED, "killed after timeout " + e.spec.timeout().orElseThrow()));
                return;
            }
            e.logs.refresh(false);
            long waitMs = deadline.map(d -> Math.max(1, Math.min(POLL.toMillis(), Duration.between(now, d).toMillis())))
                    .orElse(POLL.toMillis());
            try {
                handle.get().onExit().get(waitMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException ex) {
                // Still running (or a non-child whose exit the JDK cannot see); check again.
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Waits on the supervisor's reports instead of polling. Returns false if the supervisor died before the main
     * process ended, so that the caller polls the pid as for a re-adopted workload.
     */
    private boolean watchSupervised(LocalWorkload e, WorkloadRecord.Launch launch, LaunchSupervisor.Child c, Optional<Instant> deadline) {
        while (!Thread.currentThread().isInterrupted()) {
            table.lock.lock();
            try {
                if (table.closed || e.record.phase().isTerminal() || e.record.stop().isPresent()) return true;
            } finally {
                table.lock.unlock();
            }
            Instant now = table.clock.instant();
            if (deadline.isPresent() && !now.isBefore(deadline.get()) && !c.exited.isDone()) {
                stop(e, new WorkloadRecord.Stop(WorkloadPhase.FAILED, "killed after timeout " + e.spec.timeout().orElseThrow()));
                return true;
            }
            long waitMs = deadline.map(d -> Math.max(1, Math.min(POLL.toMillis(), Duration.between(now, d).toMillis())))
                    .orElse(POLL.toMillis());
            int code;
            try {
                code = c.exited.get(waitMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException ex) {
                e.logs.refresh(false);
                continue;
            } catch (ExecutionException ex) {
                log.atWarn().addKeyValue("workload", e.id()).addKeyValue("error", ex.getCause().getMessage())
                        .log("lost the launch supervisor; watching the process by polling");
                return false;
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return true;
            }
            table.lock.lock();
            try {
                // A cancel or timeout that raced with the exit settles it.
                if (table.closed || e.record.phase().isTerminal() || e.record.stop().isPresent()) return true;
            } finally {
                table.lock.unlock();
            }
            settleSupervised(e, launch, c, code);
            return true;
        }
        return true;
    }

    /**
     * The supervisor reaped the main process and recorded {@code code}. Lets it drain the logs, kills what the
     * workload left behind in its group (only then is /proc scanned), and records the outcome.
     */
    private void settleSupervised(LocalWorkload e, WorkloadRecord.Launch launch, LaunchSupervisor.Child c, int code) {
        boolean drained;
        try {
            c.drained.get(DRAIN.toMillis(), TimeUnit.MILLISECONDS);
            drained = true;
        } catch (TimeoutException | ExecutionException ex) {
            drained = false;
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            return;
        }
        if (!drained || c.groupLeft) ProcessTree.terminateGroup(launch.pid(), table.options.killGrace());
        if (!drained && !c.drained.isDone()) {
            // Something outside the group (a daemon that called setsid) still holds the pipes: stop copying them.
            c.abandonLogs();
            try {
                c.drained.get(1, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException ex) {
                // the log is sealed below either way
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        complete(e, ExitStatus.of(code));
    }

    /**
     * The main process ended (exit_code exists) or the wrapper is gone. Lets the log readers drain, kills what the
     * workload left behind in its group (as Kubernetes does when a container's main process exits), and records
     * the outcome.
     */
    private void settleExited(LocalWorkload e, WorkloadRecord.Launch launch, Optional<ProcessHandle> runningWrapper) {
        if (runningWrapper.isPresent()) {
            long drainDeadline = System.nanoTime() + DRAIN.toNanos();
            while (ProcessTree.isRunning(runningWrapper.get()) && System.nanoTime() - drainDeadline < 0) {
                try {
                    runningWrapper.get().onExit().get(50, TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException ex) {
                    // keep waiting until the drain deadline
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (ProcessTree.isRunning(runningWrapper.get())) ProcessTree.terminate(runningWrapper.get(), table.options.killGrace());
        }
        ProcessTree.terminateGroup(launch.pid(), table.options.killGrace());
        var outcome = e.dir.readExitCode().map(ExitStatus::of).orElseGet(() -> ExitStatus.stopped(WorkloadPhase.FAILED,
                "process %d ended without recording an exit code; it was killed from outside Capstan or %s failed (see %s)"
                        .formatted(launch.pid(), e.child != null ? "the launch supervisor" : "the wrapper",
                                e.child != null ? table.options.stateDir().resolve(LocalBackend.SUPERVISOR_LOG) : e.dir.wrapperLog())));
        complete(e, outcome);
    }

    /** Cancel or timeout: records the intent, kills the tree, then records the outcome. */
    WorkloadState stop(LocalWorkload e, WorkloadRecord.Stop stop) {
        WorkloadRecord.Launch launch;
        table.lock.lock();
        try {
            // Being spawned outside the lock: let it get its pid first, then stop it as a running one.
            while (e.starting) table.startDone.awaitUninterruptibly();
            if (e.record.phase().isTerminal()) return e.record.state();
            if (e.record.phase() == WorkloadPhase.QUEUED) {
                admission.dequeue(e);
                table.finishLocked(e, ExitStatus.stopped(stop.phase(), stop.message() + " before it started"));
                return e.record.state();
            }
            if (e.record.stop().isEmpty()) {
                // Persisted first, so a server that dies mid-kill finishes the job, with the right phase, on restart.
                e.record = e.record.withStop(stop);
                table.persist(e);
            }
            launch = e.record.launch().orElseThrow();
        } finally {
            table.lock.unlock();
        }
        // Only a wrapper we can still identify is signalled (with its group): after it is gone its pid, and so its
        // group id, may belong to someone else.
        // A container is stopped through its engine: killing the client would leave the container running.
        containers.stop(e.dir, table.options.killGrace());
        var root = ProcessTree.find(launch.pid(), launch.processStart());
        var c = e.child;
        if (root.isPresent()) {
            ProcessTree.terminate(root.get(), table.options.killGrace());
        } else if (c != null && (!c.exited.isDone() || c.groupLeft)) {
            // Started through the supervisor, the main process is the session leader itself. It has ended, but while
            // the supervisor has not reaped it, or while its group has members, its pid cannot be reused, so the
            // group is still the workload's.
            ProcessTree.terminateGroup(launch.pid(), table.options.killGrace());
        }
        complete(e, ExitStatus.stopped(stop.phase(), stop.message()));
        return table.state(e);
    }

    /** Seals the logs and records the outcome; a recorded stop request decides the phase. Idempotent. */
    void complete(LocalWorkload e, ExitStatus outcome) {
        // A container whose engine client was killed keeps running, unobserved: found by its label and removed.
        containers.removeLeftovers(e.id(), e.dir);
        e.logs.refresh(true);
        try {
            // An empty log needs no index: a missing one is rebuilt, identically, from the empty files.
            if (e.logs.lineCount() > 0) e.logs.save(e.dir.logIndex());
        } catch (UncheckedIOException ex) {
            log.atWarn().addKeyValue("workload", e.id()).addKeyValue("error", ex.getMessage()).log("cannot save the log index; it will be rebuilt");
        }
        List<LocalWorkload> admitted;
        table.lock.lock();
        try {
            if (e.record.phase().isTerminal()) return;
            var stop = e.record.stop();
            var result = stop.isPresent() ? ExitStatus.stopped(stop.get().phase(), stop.get().message()) : outcome;
            table.finishLocked(e, result);
            admission.release(e);
            admitted = admission.admitLocked();
        } finally {
            table.lock.unlock();
        }
        startAdmitted.accept(admitted);
    }
}
