package io.capstan.backend;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs workloads as local child processes that survive the server. Each workload lives in {@code <stateDir>/<id>/};
 * its process is started in a new session by a resident launch supervisor (or, without perl, a small per-launch
 * wrapper; see {@link SessionLauncher}), so a {@code kill -9} of the server leaves it running, and its pid and start
 * time are in {@code state.json} before {@link #launch} returns. A workload admitted at once is written only as
 * RUNNING; one found with a spec but no state (a crash between the spawn and that write) is queued again. A new
 * {@code LocalBackend} on the same folder re-adopts what still runs (timeouts keep counting from the original
 * start), settles what ended while it was down from the recorded exit code, marks the rest
 * {@link WorkloadPhase#LOST}, and queues the queued ones again.
 *
 * <p>Scheduling: a workload starts when its CPU, memory and GPU requests fit beside the running ones; the others
 * wait in priority order (higher first, then first come), and the head of the queue is never overtaken, so a large
 * workload cannot starve. A request larger than the whole machine fails at once.
 *
 * <p>Logs: {@link #tail} and {@link #follow} number the lines of stdout and stderr together; see {@link LogIndex}
 * for the ordering across the two streams. Each stream keeps at most half of {@link Options#maxLogBytes()}.
 *
 * <p>Processes are spawned without holding the backend's lock: an admitted workload keeps its resources and reads as
 * QUEUED until its pid is recorded, and a cancel waits for that. If the launch supervisor dies, the workloads it ran
 * are watched by polling their pids, as re-adopted ones are, and the next launch starts a new supervisor.
 *
 * <p>Thread-safe. {@link #close()} stops watching but leaves the processes running for the next server;
 * {@link #shutdownAndKillAll(Duration)} kills them too.
 */
public final class LocalBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration DRAIN = Duration.ofSeconds(2);
    private static final int MAX_FOLLOW_LINES = 10_000;
    /** Where the launch supervisor writes what it cannot tell the JVM, in the state folder. */
    private static final String SUPERVISOR_LOG = ".supervisor.log";

    /**
     * How a {@link LocalBackend} runs.
     *
     * @param stateDir    the folder holding one sub-folder per workload, for example {@code CAPSTAN_HOME/work/workloads}
     * @param cpus        CPUs the scheduler may hand out
     * @param memoryBytes memory the scheduler may hand out
     * @param gpuDetector finds the GPUs to hand out, once, at construction
     * @param clock       for timestamps and timeouts
     * @param maxLogBytes log bytes kept per workload, split evenly between stdout and stderr
     * @param killGrace   how long a process has between SIGTERM and SIGKILL on cancel and timeout
     * @param onFinish    told each time a workload reaches a terminal phase, with its final state, so that a
     *                    controller can react at once instead of polling; it is called on the thread that saw the
     *                    end while the backend's lock is held, so it must return quickly and must not call back
     *                    into the backend; what it throws is logged and dropped
     */
    public record Options(Path stateDir, double cpus, long memoryBytes, GpuDetector gpuDetector, Clock clock,
                          long maxLogBytes, Duration killGrace, Consumer<WorkloadState> onFinish) {
        public static final long DEFAULT_MAX_LOG_BYTES = 64L << 20;

        public Options {
            Objects.requireNonNull(stateDir, "stateDir");
            Objects.requireNonNull(gpuDetector, "gpuDetector");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(killGrace, "killGrace");
            Objects.requireNonNull(onFinish, "onFinish");
            if (!(cpus > 0)) throw InvalidSpecException.of("cpus", "local backend cpus must be > 0, got " + cpus);
            if (memoryBytes <= 0) throw InvalidSpecException.of("memoryBytes", "local backend memoryBytes must be > 0, got " + memoryBytes);
            if (maxLogBytes < 2) throw InvalidSpecException.of("maxLogBytes", "local backend maxLogBytes must be >= 2, got " + maxLogBytes);
            if (killGrace.isNegative()) throw InvalidSpecException.of("killGrace", "local backend killGrace must not be negative, got " + killGrace);
        }

        /** This machine's CPUs and physical memory, GPUs from nvidia-smi, the system clock, 64 MiB of logs, 5 s grace. */
        public static Options of(Path stateDir) {
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            return new Options(stateDir, Runtime.getRuntime().availableProcessors(), os.getTotalMemorySize(),
                    GpuDetector.nvidiaSmi(Duration.ofSeconds(10)), Clock.systemUTC(), DEFAULT_MAX_LOG_BYTES, Duration.ofSeconds(5), s -> { });
        }

        public Options withCapacity(double newCpus, long newMemoryBytes) {
            return new Options(stateDir, newCpus, newMemoryBytes, gpuDetector, clock, maxLogBytes, killGrace, onFinish);
        }

        public Options withGpuDetector(GpuDetector detector) {
            return new Options(stateDir, cpus, memoryBytes, detector, clock, maxLogBytes, killGrace, onFinish);
        }

        public Options withClock(Clock newClock) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, newClock, maxLogBytes, killGrace, onFinish);
        }

        public Options withMaxLogBytes(long bytes) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, bytes, killGrace, onFinish);
        }

        public Options withOnFinish(Consumer<WorkloadState> listener) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, killGrace, listener);
        }

        public Options withKillGrace(Duration grace) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, grace, onFinish);
        }
    }

    /** One workload; {@code record} is guarded by {@link #lock}, the rest is immutable or thread-safe. */
    private static final class Entry {
        final WorkloadSpec spec;
        final WorkloadDir dir;
        final LogIndex logs;
        WorkloadRecord record;
        /** The launch supervisor's record of the process, when this backend started it through one. */
        volatile LaunchSupervisor.Child child;
        /** Read from disk as queued: it may have been started once already by a server that then died. */
        boolean mayHaveRun;
        /** Admitted and being spawned outside the lock; still QUEUED to readers. Guarded by the lock. */
        boolean starting;
        /** The GPUs allocated at admission. Guarded by the lock. */
        List<Integer> gpus = List.of();

        Entry(WorkloadSpec spec, WorkloadDir dir, WorkloadRecord record, Clock clock) {
            this.spec = spec;
            this.dir = dir;
            this.record = record;
            this.logs = new LogIndex(dir.stdout(), dir.stderr(), clock);
        }

        String id() {
            return spec.id();
        }
    }

    private final Options options;
    private final Clock clock;
    private final SessionLauncher launcher;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled when a workload leaves {@link Entry#starting}. */
    private final java.util.concurrent.locks.Condition startDone = lock.newCondition();
    // Guarded by lock: workloads, queue, pool, nextSequence, closed, draining.
    private final Map<String, Entry> workloads = new LinkedHashMap<>();
    private final PriorityQueue<Entry> queue = new PriorityQueue<>(
            Comparator.<Entry>comparingInt(e -> -e.spec.priority()).thenComparingLong(e -> e.record.sequence()));
    private final ResourcePool pool;
    private long nextSequence;
    private boolean closed;
    private boolean draining;
    private final Map<String, Thread> watchers = new ConcurrentHashMap<>();

    /**
     * Opens {@code options.stateDir()}, creating it if needed, and recovers every workload found there.
     *
     * @throws UncheckedIOException if the folder cannot be created or listed
     */
    public LocalBackend(Options options) {
        this.options = Objects.requireNonNull(options, "options");
        this.clock = options.clock();
        List<Integer> gpus = options.gpuDetector().detect();
        this.pool = new ResourcePool(options.cpus(), options.memoryBytes(), gpus);
        this.launcher = new SessionLauncher(gpus, options.maxLogBytes() / 2, Optional.of(options.stateDir().resolve(SUPERVISOR_LOG)));
        try {
            Files.createDirectories(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the workload folder " + options.stateDir() + "; check permissions", e);
        }
        recover();
    }

    /** The pid of the resident launch supervisor, or -1 when none runs; for benchmarks and tests. */
    long supervisorPid() {
        return launcher.supervisorPid();
    }

    @Override
    public Optional<ResourceRequest> capacity() {
        return Optional.of(new ResourceRequest(options.cpus(), options.memoryBytes(), pool.gpus().size()));
    }

    /** The GPU indices this backend hands out. */
    public List<Integer> gpus() {
        return pool.gpus();
    }

    @Override
    public WorkloadState launch(WorkloadSpec spec) {
        Objects.requireNonNull(spec, "spec");
        Entry e;
        List<Entry> admitted;
        lock.lock();
        try {
            ensureOpen();
            var existing = workloads.get(spec.id());
            if (existing != null) {
                if (!existing.spec.equals(spec)) {
                    throw new ConflictException("workload '%s' already exists with a different spec; remove it first or launch under a new id"
                            .formatted(spec.id()));
                }
                return existing.record.state();
            }
            var dir = new WorkloadDir(options.stateDir().resolve(spec.id()));
            if (Files.exists(dir.root())) {
                throw new ConflictException("workload folder %s exists but could not be read at start-up; delete it or launch under a new id"
                        .formatted(dir.root()));
            }
            try {
                Files.createDirectories(dir.root());
            } catch (IOException ex) {
                throw new TransientException("cannot create workload folder " + dir.root() + "; check permissions and disk space", ex);
            }
            dir.writeSpec(spec);
            Instant now = clock.instant();
            var state = new WorkloadState(spec.id(), WorkloadPhase.QUEUED, Optional.empty(), "waiting for resources",
                    Optional.empty(), Optional.empty(), List.of());
            e = new Entry(spec, dir, new WorkloadRecord(state, nextSequence++, now, Optional.empty(), Optional.empty()), clock);
            workloads.put(spec.id(), e);
            var impossible = pool.neverFits(spec.id(), spec.requests());
            if (impossible.isPresent()) {
                finishLocked(e, ExitStatus.stopped(WorkloadPhase.FAILED, impossible.get()));
                return e.record.state();
            }
            queue.add(e);
            admitted = admitLocked();
            // Admitted at once: start() persists it as RUNNING with its pid (or as FAILED) before this returns, so
            // QUEUED is never written. A crash between the spawn and that write leaves spec.json without state.json:
            // recovery re-adopts the process from the launch supervisor's launch record, and without one (no
            // supervisor, or a GPU workload) queues it again, as after a crash between a QUEUED write and the RUNNING one.
            if (!e.starting) persist(e);
        } finally {
            lock.unlock();
        }
        startAll(admitted);
        return phaseState(e);
    }

    @Override
    public Optional<WorkloadState> find(String workloadId) {
        Objects.requireNonNull(workloadId, "workloadId");
        lock.lock();
        try {
            return Optional.ofNullable(workloads.get(workloadId)).map(e -> e.record.state());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<WorkloadState> list() {
        lock.lock();
        try {
            return workloads.values().stream().map(e -> e.record.state()).toList();
        } finally {
            lock.unlock();
        }
    }

    /** How many workloads are in each phase; cheap, for metrics. */
    public Map<WorkloadPhase, Integer> countsByPhase() {
        var counts = new EnumMap<WorkloadPhase, Integer>(WorkloadPhase.class);
        for (var p : WorkloadPhase.values()) counts.put(p, 0);
        lock.lock();
        try {
            workloads.values().forEach(e -> counts.merge(e.record.phase(), 1, Integer::sum));
        } finally {
            lock.unlock();
        }
        return Map.copyOf(counts);
    }

    /** Blocks up to the kill grace plus a few seconds while the process tree dies. */
    @Override
    public WorkloadState cancel(String workloadId) {
        lock.lock();
        try {
            ensureOpen();
        } finally {
            lock.unlock();
        }
        return stop(entry(workloadId), new WorkloadRecord.Stop(WorkloadPhase.CANCELLED, "cancelled"));
    }

    @Override
    public List<LogLine> tail(String workloadId, int maxLines) {
        if (maxLines < 0) throw InvalidSpecException.of("maxLines", "maxLines must be >= 0, got " + maxLines);
        var e = entry(workloadId);
        e.logs.refresh(false);
        long from = Math.max(0, e.logs.lineCount() - maxLines);
        return e.logs.read(from, maxLines);
    }

    /** Returns at most 10,000 lines per call; returns at once, empty, when the workload has ended and all was read. */
    @Override
    public List<LogLine> follow(String workloadId, long fromLine, Duration wait) {
        if (fromLine < 0) throw InvalidSpecException.of("fromLine", "fromLine must be >= 0, got " + fromLine);
        Objects.requireNonNull(wait, "wait");
        var e = entry(workloadId);
        long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
        while (true) {
            boolean terminal = phase(e).isTerminal();
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

    @Override
    public void remove(String workloadId) {
        lock.lock();
        try {
            ensureOpen();
            var e = entry(workloadId);
            if (!e.record.phase().isTerminal()) {
                throw new ConflictException("workload '%s' is %s; cancel it before removing it".formatted(workloadId, e.record.phase()));
            }
            try {
                e.dir.delete();
            } catch (IOException ex) {
                throw new TransientException("cannot delete workload folder %s: %s; fix its permissions and retry".formatted(e.dir.root(), ex), ex);
            }
            workloads.remove(workloadId);
        } finally {
            lock.unlock();
        }
    }

    /** Stops watching workloads and returns; running processes keep running for the next backend on this folder. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        launcher.close();
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

    /**
     * Cancels every queued and running workload, waiting up to {@code wait} in all, then {@link #close()}s. Does
     * nothing on a closed backend: its workloads may already belong to a newer one.
     */
    public void shutdownAndKillAll(Duration wait) {
        Objects.requireNonNull(wait, "wait");
        List<Entry> live;
        lock.lock();
        try {
            if (closed) return;
            // Stop admitting first, so that no cancellation below starts a queued workload.
            draining = true;
            for (var e : List.copyOf(queue)) {
                queue.remove(e);
                finishLocked(e, ExitStatus.stopped(WorkloadPhase.CANCELLED, "cancelled at shutdown before it started"));
            }
            live = workloads.values().stream().filter(e -> !e.record.phase().isTerminal()).toList();
        } finally {
            lock.unlock();
        }
        try (var exec = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = live.stream().map(e -> exec.submit(() -> stop(e, new WorkloadRecord.Stop(WorkloadPhase.CANCELLED, "cancelled at shutdown")))).toList();
            long deadline = System.nanoTime() + wait.toNanos();
            for (var f : futures) {
                try {
                    f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    log.atWarn().addKeyValue("error", e.toString()).log("a workload did not stop at shutdown");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            exec.shutdownNow();
        }
        close();
    }

    // ---- internals -------------------------------------------------------------------------------------------

    private Entry entry(String id) {
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

    private WorkloadPhase phase(Entry e) {
        lock.lock();
        try {
            return e.record.phase();
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("this LocalBackend on " + options.stateDir() + " is closed; create a new one");
    }

    private void persist(Entry e) {
        e.dir.writeState(e.record);
    }

    /**
     * Admits queued workloads from the head of the queue while they fit; the head is never overtaken. Workloads
     * that request nothing take nothing from the head, so they start at once wherever they are in the queue.
     * Admitted workloads get their resources now and are marked {@link Entry#starting}; the caller hands the
     * returned list to {@link #startAll} after releasing the lock, so that no process is spawned under it.
     */
    private List<Entry> admitLocked() {
        if (closed || draining || queue.isEmpty()) return List.of();
        var admitted = new ArrayList<Entry>();
        while (!queue.isEmpty() && pool.fits(queue.peek().spec.requests())) {
            reserveLocked(queue.poll(), admitted);
        }
        if (!queue.isEmpty()) {
            for (var e : List.copyOf(queue)) {
                if (e.spec.requests().equals(ResourceRequest.NONE)) {
                    queue.remove(e);
                    reserveLocked(e, admitted);
                }
            }
        }
        return admitted;
    }

    private void reserveLocked(Entry e, List<Entry> admitted) {
        e.gpus = pool.allocate(e.id(), e.spec.requests());
        e.starting = true;
        admitted.add(e);
    }

    /** Starts what {@link #admitLocked} admitted; the first failure to record a start is thrown after the rest. */
    private void startAll(List<Entry> admitted) {
        TransientException failure = null;
        var todo = new java.util.ArrayDeque<>(admitted);
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
    private List<Entry> start(Entry e) {
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
        lock.lock();
        try {
            e.starting = false;
            startDone.signalAll();
            if (started == null) {
                pool.release(e.id());
                finishLocked(e, ExitStatus.stopped(WorkloadPhase.FAILED, failure));
                return admitLocked();
            }
            var launch = started.launch();
            e.child = started.child().orElse(null);
            var before = e.record;
            e.record = e.record.withLaunch(launch, new WorkloadState(e.id(), WorkloadPhase.RUNNING, Optional.empty(),
                    "running as pid " + launch.pid(), Optional.of(clock.instant()), Optional.empty(), e.gpus));
            try {
                persist(e);
            } catch (UncheckedIOException ex) {
                // Without a record of the pid the process could never be re-adopted, so it must not run.
                ProcessHandle.of(launch.pid()).ifPresent(h -> ProcessTree.terminate(h, Duration.ZERO));
                pool.release(e.id());
                e.child = null;
                e.record = before;
                throw new TransientException("workload '%s' was not started: %s".formatted(e.id(), ex.getMessage()), ex);
            }
            // Debug: a pipeline starts thousands of steps, and each one's state is in its folder and its owner's status.
            log.atDebug().addKeyValue("workload", e.id()).addKeyValue("pid", launch.pid()).addKeyValue("gpus", e.gpus).log("workload started");
            watch(e);
            return List.of();
        } finally {
            lock.unlock();
        }
    }

    private void watch(Entry e) {
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

    private void watchLoop(Entry e) {
        WorkloadRecord t;
        lock.lock();
        try {
            t = e.record;
        } finally {
            lock.unlock();
        }
        var launch = t.launch().orElseThrow();
        Optional<Instant> deadline = e.spec.timeout().flatMap(to -> t.state().startedAt().map(s -> s.plus(to)));
        var child = e.child;
        if (child != null && watchSupervised(e, launch, child, deadline)) return;
        Optional<ProcessHandle> handle = ProcessHandle.of(launch.pid());
        while (!Thread.currentThread().isInterrupted()) {
            lock.lock();
            try {
                if (closed || e.record.phase().isTerminal() || e.record.stop().isPresent()) return;
            } finally {
                lock.unlock();
            }
            boolean running = handle.map(ProcessTree::isRunning).orElse(false);
            if (!running || Files.exists(e.dir.exitCodeFile())) {
                settleExited(e, launch, handle.filter(h -> running));
                return;
            }
            Instant now = clock.instant();
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
    private boolean watchSupervised(Entry e, WorkloadRecord.Launch launch, LaunchSupervisor.Child c, Optional<Instant> deadline) {
        while (!Thread.currentThread().isInterrupted()) {
            lock.lock();
            try {
                if (closed || e.record.phase().isTerminal() || e.record.stop().isPresent()) return true;
            } finally {
                lock.unlock();
            }
            Instant now = clock.instant();
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
            lock.lock();
            try {
                // A cancel or timeout that raced with the exit settles it.
                if (closed || e.record.phase().isTerminal() || e.record.stop().isPresent()) return true;
            } finally {
                lock.unlock();
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
    private void settleSupervised(Entry e, WorkloadRecord.Launch launch, LaunchSupervisor.Child c, int code) {
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
        if (!drained || c.groupLeft) ProcessTree.terminateGroup(launch.pid(), options.killGrace());
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
    private void settleExited(Entry e, WorkloadRecord.Launch launch, Optional<ProcessHandle> runningWrapper) {
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
            if (ProcessTree.isRunning(runningWrapper.get())) ProcessTree.terminate(runningWrapper.get(), options.killGrace());
        }
        ProcessTree.terminateGroup(launch.pid(), options.killGrace());
        var outcome = e.dir.readExitCode().map(ExitStatus::of).orElseGet(() -> ExitStatus.stopped(WorkloadPhase.FAILED,
                "process %d ended without recording an exit code; it was killed from outside Capstan or %s failed (see %s)"
                        .formatted(launch.pid(), e.child != null ? "the launch supervisor" : "the wrapper",
                                e.child != null ? options.stateDir().resolve(SUPERVISOR_LOG) : e.dir.wrapperLog())));
        complete(e, outcome);
    }

    /** Cancel or timeout: records the intent, kills the tree, then records the outcome. */
    private WorkloadState stop(Entry e, WorkloadRecord.Stop stop) {
        WorkloadRecord.Launch launch;
        lock.lock();
        try {
            // Being spawned outside the lock: let it get its pid first, then stop it as a running one.
            while (e.starting) startDone.awaitUninterruptibly();
            if (e.record.phase().isTerminal()) return e.record.state();
            if (e.record.phase() == WorkloadPhase.QUEUED) {
                queue.remove(e);
                finishLocked(e, ExitStatus.stopped(stop.phase(), stop.message() + " before it started"));
                return e.record.state();
            }
            if (e.record.stop().isEmpty()) {
                // Persisted first, so a server that dies mid-kill finishes the job, with the right phase, on restart.
                e.record = e.record.withStop(stop);
                persist(e);
            }
            launch = e.record.launch().orElseThrow();
        } finally {
            lock.unlock();
        }
        // Only a wrapper we can still identify is signalled (with its group): after it is gone its pid, and so its
        // group id, may belong to someone else.
        var root = ProcessTree.find(launch.pid(), launch.processStart());
        var c = e.child;
        if (root.isPresent()) {
            ProcessTree.terminate(root.get(), options.killGrace());
        } else if (c != null && (!c.exited.isDone() || c.groupLeft)) {
            // Started through the supervisor, the main process is the session leader itself. It has ended, but while
            // the supervisor has not reaped it, or while its group has members, its pid cannot be reused, so the
            // group is still the workload's.
            ProcessTree.terminateGroup(launch.pid(), options.killGrace());
        }
        complete(e, ExitStatus.stopped(stop.phase(), stop.message()));
        return phaseState(e);
    }

    private WorkloadState phaseState(Entry e) {
        lock.lock();
        try {
            return e.record.state();
        } finally {
            lock.unlock();
        }
    }

    /** Seals the logs and records the outcome; a recorded stop request decides the phase. Idempotent. */
    private void complete(Entry e, ExitStatus outcome) {
        e.logs.refresh(true);
        try {
            // An empty log needs no index: a missing one is rebuilt, identically, from the empty files.
            if (e.logs.lineCount() > 0) e.logs.save(e.dir.logIndex());
        } catch (UncheckedIOException ex) {
            log.atWarn().addKeyValue("workload", e.id()).addKeyValue("error", ex.getMessage()).log("cannot save the log index; it will be rebuilt");
        }
        List<Entry> admitted;
        lock.lock();
        try {
            if (e.record.phase().isTerminal()) return;
            var stop = e.record.stop();
            var result = stop.isPresent() ? ExitStatus.stopped(stop.get().phase(), stop.get().message()) : outcome;
            finishLocked(e, result);
            pool.release(e.id());
            admitted = admitLocked();
        } finally {
            lock.unlock();
        }
        startAll(admitted);
    }

    private void finishLocked(Entry e, ExitStatus outcome) {
        var s = e.record.state();
        e.record = e.record.withState(new WorkloadState(e.id(), outcome.phase(), outcome.exitCode(), outcome.message(),
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

    // ---- recovery ----------------------------------------------------------------------------------------------

    private void recover() {
        List<Path> dirs;
        try (Stream<Path> s = Files.list(options.stateDir())) {
            dirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the workload folder " + options.stateDir(), e);
        }
        List<Entry> admitted;
        lock.lock();
        try {
            var loaded = new ArrayList<Entry>();
            var unrecorded = new ArrayList<Entry>();
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
                        unrecorded.add(new Entry(spec, dir, new WorkloadRecord(state, 0, queuedAt, Optional.empty(), Optional.empty()), clock));
                        continue;
                    }
                    var e = new Entry(spec, dir, dir.readState(spec.id()), clock);
                    e.logs.load(dir.logIndex());
                    loaded.add(e);
                } catch (IOException | RuntimeException ex) {
                    log.atWarn().addKeyValue("folder", p).addKeyValue("error", ex.toString())
                            .log("skipping an unreadable workload folder; delete it to reuse its id");
                }
            }
            loaded.sort(Comparator.comparingLong(e -> e.record.sequence()));
            for (var e : loaded) {
                workloads.put(e.id(), e);
                nextSequence = Math.max(nextSequence, e.record.sequence() + 1);
            }
            unrecorded.sort(Comparator.comparing(e -> e.record.queuedAt()));
            for (var e : unrecorded) {
                e.record = new WorkloadRecord(e.record.state(), nextSequence++, e.record.queuedAt(), Optional.empty(), Optional.empty());
                workloads.put(e.id(), e);
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
                            queue.add(e);
                        }
                    }
                    case RUNNING -> recoverRunning(e);
                    case SUCCEEDED, FAILED, CANCELLED, LOST -> e.logs.refresh(true);
                }
            }
            admitted = admitLocked();
        } finally {
            lock.unlock();
        }
        startAll(admitted);
    }

    /**
     * A workload the launch supervisor forked but whose RUNNING state the server never wrote (it died in between):
     * the supervisor's {@code launch} record names the process, so it is re-adopted or settled like a recorded one
     * instead of being queued and run a second time. GPU workloads are left to the queue: which GPUs they hold is
     * only known from the state that was never written.
     */
    private void recoverRecordedLaunch(Entry e, WorkloadRecord.Launch launch) {
        e.record = e.record.withLaunch(launch, new WorkloadState(e.id(), WorkloadPhase.RUNNING, Optional.empty(),
                "running as pid " + launch.pid(), launch.processStart().or(() -> Optional.of(clock.instant())),
                Optional.empty(), List.of()));
        persist(e);
        recoverRunning(e);
    }

    private void recoverRunning(Entry e) {
        var launch = e.record.launch();
        if (launch.isEmpty()) {
            complete(e, ExitStatus.stopped(WorkloadPhase.LOST, "no process id was recorded for workload '%s'".formatted(e.id())));
            return;
        }
        long pid = launch.get().pid();
        var alive = ProcessTree.find(pid, launch.get().processStart());
        if (alive.isPresent()) {
            pool.adopt(e.id(), e.spec.requests(), e.record.state().gpus());
            log.atInfo().addKeyValue("workload", e.id()).addKeyValue("pid", pid).log("re-adopted a running workload");
            if (e.record.stop().isPresent()) {
                var stop = e.record.stop().get();
                Thread.ofVirtual().name("capstan-stop-" + e.id()).start(() -> stop(e, stop));
            } else {
                watch(e);
            }
            return;
        }
        var outcome = e.dir.readExitCode().map(ExitStatus::of).orElseGet(() -> ExitStatus.stopped(WorkloadPhase.LOST,
                "process %d vanished while the server was down; no exit code was recorded".formatted(pid)));
        complete(e, outcome);
    }
}
