package io.capstan.backend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads back the workloads a {@link LocalBackend} on the same folder left behind: re-adopts what still runs
 * (timeouts keep counting from the original start), settles what ended while the server was down from the
 * recorded exit code, marks the rest {@link WorkloadPhase#LOST}, and queues the queued ones again.
 */
final class Recovery {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);

    private final WorkloadTable table;
    private final Admission admission;
    private final Watcher watcher;
    private final Consumer<List<LocalWorkload>> startAdmitted;

    Recovery(WorkloadTable table, Admission admission, Watcher watcher, Consumer<List<LocalWorkload>> startAdmitted) {
        this.table = table;
        this.admission = admission;
        this.watcher = watcher;
        this.startAdmitted = startAdmitted;
    }

    void run() {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(table.options.stateDir())) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the workload folder " + table.options.stateDir(), e);
        }
        List<LocalWorkload> admitted;
        table.lock.lock();
        try {
            var loaded = new ArrayList<LocalWorkload>();
            var unrecorded = new ArrayList<LocalWorkload>();
            for (Path p : dirs) {
                var dir = new WorkloadDir(p);
                if (!Files.exists(dir.specFile())) continue;
                try {
                    var spec = dir.readSpec();
                    if (!Files.exists(dir.stateFile())) {
                        // launch() writes no QUEUED state for a workload it starts at once; a crash before the RUNNING
                        // state was written leaves only the spec: queue it again, as a recorded QUEUED one would be.
                        var state = new WorkloadState(spec.id(), WorkloadPhase.QUEUED, Optional.empty(), "waiting for resources",
                                Optional.empty(), Optional.empty(), List.of());
                        var queuedAt = Files.getLastModifiedTime(dir.specFile()).toInstant();
                        unrecorded.add(new LocalWorkload(spec, dir, new WorkloadRecord(state, 0, queuedAt, Optional.empty(), Optional.empty()), table.clock));
                        continue;
                    }
                    var e = new LocalWorkload(spec, dir, dir.readState(spec.id()), table.clock);
                    e.logs.load(dir.logIndex());
                    loaded.add(e);
                } catch (IOException | RuntimeException ex) {
                    log.atWarn().addKeyValue("folder", p).addKeyValue("error", ex.toString())
                            .log("skipping an unreadable workload folder; delete it to reuse its id");
                }
            }
            loaded.sort(Comparator.comparingLong(e -> e.record.sequence()));
            for (var e : loaded) {
                table.workloads.put(e.id(), e);
                table.nextSequence = Math.max(table.nextSequence, e.record.sequence() + 1);
            }
            unrecorded.sort(Comparator.comparing(e -> e.record.queuedAt()));
            for (var e : unrecorded) {
                e.record = new WorkloadRecord(e.record.state(), table.nextSequence++, e.record.queuedAt(), Optional.empty(), Optional.empty());
                table.workloads.put(e.id(), e);
                loaded.add(e);
            }
            for (var e : loaded) {
                switch (e.record.phase()) {
                    case QUEUED -> {
                        var launched = e.spec.requests().gpuCount() > 0 ? Optional.<WorkloadRecord.Launch>empty() : e.dir.readLaunch();
                        if (launched.isPresent()) {
                            recoverRecordedLaunch(e, launched.get());
                        } else {
                            e.mayHaveRun = true;
                            admission.enqueue(e);
                        }
                    }
                    case RUNNING -> recoverRunning(e);
                    case SUCCEEDED, FAILED, CANCELLED, LOST -> e.logs.refresh(true);
                }
            }
            admitted = admission.admitLocked();
        } finally {
            table.lock.unlock();
        }
        startAdmitted.accept(admitted);
    }

    /**
     * A workload the launch supervisor forked but whose RUNNING state the server never wrote (it died in between):
     * the supervisor's {@code launch} record names the process, so it is re-adopted or settled like a recorded one
     * instead of being queued and run a second time. GPU workloads are left to the queue: which GPUs they hold is
     * only known from the state that was never written.
     */
    private void recoverRecordedLaunch(LocalWorkload e, WorkloadRecord.Launch launch) {
        e.record = e.record.withLaunch(launch, new WorkloadState(e.id(), WorkloadPhase.RUNNING, Optional.empty(),
                "running as pid " + launch.pid(), launch.processStart().or(() -> Optional.of(table.clock.instant())),
                Optional.empty(), List.of()));
        table.persist(e);
        recoverRunning(e);
    }

    private void recoverRunning(LocalWorkload e) {
        var launch = e.record.launch();
        if (launch.isEmpty()) {
            watcher.complete(e, ExitStatus.stopped(WorkloadPhase.LOST, "no process id was recorded for workload '%s'".formatted(e.id())));
            return;
        }
        long pid = launch.get().pid();
        var alive = ProcessTree.find(pid, launch.get().processStart());
        if (alive.isPresent()) {
            admission.adopt(e);
            log.atInfo().addKeyValue("workload", e.id()).addKeyValue("pid", pid).log("re-adopted a running workload");
            if (e.record.stop().isPresent()) {
                var stop = e.record.stop().get();
                Thread.ofVirtual().name("capstan-stop-" + e.id()).start(() -> watcher.stop(e, stop));
            } else {
                watcher.watch(e);
            }
            return;
        }
        var outcome = e.dir.readExitCode().map(ExitStatus::of).orElseGet(() -> ExitStatus.stopped(WorkloadPhase.LOST,
                "process %d vanished while the server was down; no exit code was recorded".formatted(pid)));
        watcher.complete(e, outcome);
    }
}
