package io.capstan.backend;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.TransientException;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.core.quota.QuotaUsage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
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
 *
 * <p>This class is the facade; the work is done by {@link Admission} (queue and resources), {@link WorkloadStarter}
 * (spawning), {@link Watcher} (exits, timeouts, cancels, logs) and {@link Recovery} (re-adoption at start-up), which
 * share the workloads and one lock through a {@link WorkloadTable}.
 */
public final class LocalBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);

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
     * @param hostEnvironment the server's environment, of which a workload inherits only what
     *                    {@link WorkloadEnvironment} allows (PATH, HOME, locale, time zone, proxies), never credentials
     * @param quotas      the per-namespace quotas workloads that name a namespace are charged to
     */
    public record Options(Path stateDir, double cpus, long memoryBytes, GpuDetector gpuDetector, Clock clock,
                          long maxLogBytes, Duration killGrace, Consumer<WorkloadState> onFinish, Map<String, String> hostEnvironment, QuotaLedger quotas) {
        public static final long DEFAULT_MAX_LOG_BYTES = 64L << 20;

        public Options {
            Objects.requireNonNull(stateDir, "stateDir");
            Objects.requireNonNull(gpuDetector, "gpuDetector");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(killGrace, "killGrace");
            Objects.requireNonNull(onFinish, "onFinish");
            hostEnvironment = Map.copyOf(hostEnvironment);
            Objects.requireNonNull(quotas, "quotas");
            if (!(cpus > 0)) throw InvalidSpecException.of("cpus", "local backend cpus must be > 0, got " + cpus);
            if (memoryBytes <= 0) throw InvalidSpecException.of("memoryBytes", "local backend memoryBytes must be > 0, got " + memoryBytes);
            if (maxLogBytes < 2) throw InvalidSpecException.of("maxLogBytes", "local backend maxLogBytes must be >= 2, got " + maxLogBytes);
            if (killGrace.isNegative()) throw InvalidSpecException.of("killGrace", "local backend killGrace must not be negative, got " + killGrace);
        }

        /** As the canonical constructor, with a ledger of its own and no quotas. */
        public Options(Path stateDir, double cpus, long memoryBytes, GpuDetector gpuDetector, Clock clock,
                       long maxLogBytes, Duration killGrace, Consumer<WorkloadState> onFinish, Map<String, String> hostEnvironment) {
            this(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, killGrace, onFinish, hostEnvironment, new QuotaLedger());
        }

        /** This machine's CPUs and physical memory, GPUs from nvidia-smi, the system clock, 64 MiB of logs, 5 s grace, no quotas. */
        public static Options of(Path stateDir) {
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            return new Options(stateDir, Runtime.getRuntime().availableProcessors(), os.getTotalMemorySize(),
                    GpuDetector.nvidiaSmi(Duration.ofSeconds(10)), Clock.systemUTC(), DEFAULT_MAX_LOG_BYTES, Duration.ofSeconds(5), s -> { }, System.getenv());
        }

        public Options withCapacity(double newCpus, long newMemoryBytes) {
            return new Options(stateDir, newCpus, newMemoryBytes, gpuDetector, clock, maxLogBytes, killGrace, onFinish, hostEnvironment, quotas);
        }

        public Options withGpuDetector(GpuDetector detector) {
            return new Options(stateDir, cpus, memoryBytes, detector, clock, maxLogBytes, killGrace, onFinish, hostEnvironment, quotas);
        }

        public Options withClock(Clock newClock) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, newClock, maxLogBytes, killGrace, onFinish, hostEnvironment, quotas);
        }

        public Options withMaxLogBytes(long bytes) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, bytes, killGrace, onFinish, hostEnvironment, quotas);
        }

        public Options withOnFinish(Consumer<WorkloadState> listener) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, killGrace, listener, hostEnvironment, quotas);
        }

        /** The environment workloads take PATH, HOME, locale, time zone and proxies from, instead of this JVM's. */
        public Options withHostEnvironment(Map<String, String> env) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, killGrace, onFinish, env, quotas);
        }

        public Options withKillGrace(Duration grace) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, grace, onFinish, hostEnvironment, quotas);
        }

        /**
         * Charges workloads that name a namespace to {@code ledger}'s quotas; a change of its quotas lets waiting
         * workloads start at once. Share the ledger with whatever else admits work per namespace.
         */
        public Options withQuotas(QuotaLedger ledger) {
            return new Options(stateDir, cpus, memoryBytes, gpuDetector, clock, maxLogBytes, killGrace, onFinish, hostEnvironment, ledger);
        }
    }

    /** Where the launch supervisor writes what it cannot tell the JVM, in the state folder. */
    static final String SUPERVISOR_LOG = ".supervisor.log";

    private final WorkloadTable table;
    private final Admission admission;
    private final SessionLauncher launcher;
    private final Watcher watcher;
    private final WorkloadStarter starter;

    /**
     * Opens {@code options.stateDir()}, creating it if needed, and recovers every workload found there.
     *
     * @throws UncheckedIOException if the folder cannot be created or listed
     */
    public LocalBackend(Options options) {
        Objects.requireNonNull(options, "options");
        this.table = new WorkloadTable(options);
        List<Integer> gpus = options.gpuDetector().detect();
        this.admission = new Admission(table, new ResourcePool(options.cpus(), options.memoryBytes(), gpus), options.quotas());
        var containers = ContainerRunner.fromEnvironment(options.hostEnvironment(), !gpus.isEmpty(), options.clock());
        this.launcher = new SessionLauncher(gpus, options.maxLogBytes() / 2, Optional.of(options.stateDir().resolve(SUPERVISOR_LOG)),
                WorkloadEnvironment.inherited(options.hostEnvironment()), containers);
        this.watcher = new Watcher(table, admission, this::startAll, containers);
        this.starter = new WorkloadStarter(table, admission, launcher, watcher);
        try {
            Files.createDirectories(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the workload folder " + options.stateDir() + "; check permissions", e);
        }
        new Recovery(table, admission, watcher, this::startAll).run();
        options.quotas().onChange(this::admitAfterQuotaChange);
    }

    /** A quota changed: workloads that waited for it may start now, or wait for another reason. */
    private void admitAfterQuotaChange() {
        List<LocalWorkload> admitted;
        table.lock.lock();
        try {
            if (table.closed) return;
            admitted = admission.admitLocked();
        } finally {
            table.lock.unlock();
        }
        startAll(admitted);
    }

    /** How this backend starts processes; for tests that need the per-launch wrapper instead of the supervisor. */
    SessionLauncher launcher() {
        return launcher;
    }

    /** The pid of the resident launch supervisor, or -1 when none runs; for benchmarks and tests. */
    long supervisorPid() {
        return launcher.supervisorPid();
    }

    @Override
    public Optional<ResourceRequest> capacity() {
        return Optional.of(new ResourceRequest(table.options.cpus(), table.options.memoryBytes(), admission.gpus().size()));
    }

    @Override
    public Optional<String> neverFitsQuota(String namespace, ResourceRequest total, int pods, String what) {
        var usage = new QuotaUsage(Math.round(total.cpus() * 1000), total.memoryBytes(), total.gpuCount(), pods);
        return table.options.quotas().neverFits(namespace, usage, what);
    }

    /** The GPU indices this backend hands out. */
    public List<Integer> gpus() {
        return admission.gpus();
    }

    @Override
    public WorkloadState launch(WorkloadSpec spec) {
        Objects.requireNonNull(spec, "spec");
        LocalWorkload e;
        List<LocalWorkload> admitted;
        table.lock.lock();
        try {
            table.ensureOpen();
            var existing = table.workloads.get(spec.id());
            if (existing != null) {
                if (!existing.spec.equals(spec)) {
                    throw new ConflictException("workload '%s' already exists with a different spec; remove it first or launch under a new id"
                            .formatted(spec.id()));
                }
                return existing.record.state();
            }
            var dir = new WorkloadDir(table.options.stateDir().resolve(spec.id()));
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
            Instant now = table.clock.instant();
            var state = new WorkloadState(spec.id(), WorkloadPhase.QUEUED, Optional.empty(), Admission.WAITING_FOR_RESOURCES,
                    Optional.empty(), Optional.empty(), List.of());
            e = new LocalWorkload(spec, dir, new WorkloadRecord(state, table.nextSequence++, now, Optional.empty(), Optional.empty()), table.clock);
            table.workloads.put(spec.id(), e);
            var impossible = admission.neverFits(spec);
            if (impossible.isPresent()) {
                table.finishLocked(e, ExitStatus.stopped(WorkloadPhase.FAILED, impossible.get()));
                return e.record.state();
            }
            admission.enqueue(e);
            admitted = admission.admitLocked();
            // Admitted at once: start() persists it as RUNNING with its pid (or as FAILED) before this returns, so
            // QUEUED is never written. A crash between the spawn and that write leaves spec.json without state.json:
            // recovery re-adopts the process from the launch supervisor's launch record, and without one (no
            // supervisor, or a GPU workload) queues it again, as after a crash between a QUEUED write and the RUNNING one.
            if (!e.starting) table.persist(e);
        } finally {
            table.lock.unlock();
        }
        startAll(admitted);
        return table.state(e);
    }

    @Override
    public Optional<WorkloadState> find(String workloadId) {
        Objects.requireNonNull(workloadId, "workloadId");
        table.lock.lock();
        try {
            return Optional.ofNullable(table.workloads.get(workloadId)).map(e -> e.record.state());
        } finally {
            table.lock.unlock();
        }
    }

    @Override
    public List<WorkloadState> list() {
        table.lock.lock();
        try {
            return table.workloads.values().stream().map(e -> e.record.state()).toList();
        } finally {
            table.lock.unlock();
        }
    }

    /** How many workloads are in each phase; cheap, for metrics. */
    public Map<WorkloadPhase, Integer> countsByPhase() {
        var counts = new EnumMap<WorkloadPhase, Integer>(WorkloadPhase.class);
        for (var p : WorkloadPhase.values()) counts.put(p, 0);
        table.lock.lock();
        try {
            table.workloads.values().forEach(e -> counts.merge(e.record.phase(), 1, Integer::sum));
        } finally {
            table.lock.unlock();
        }
        return Map.copyOf(counts);
    }

    /** Blocks up to the kill grace plus a few seconds while the process tree dies. */
    @Override
    public WorkloadState cancel(String workloadId) {
        table.lock.lock();
        try {
            table.ensureOpen();
        } finally {
            table.lock.unlock();
        }
        return watcher.stop(table.entry(workloadId), new WorkloadRecord.Stop(WorkloadPhase.CANCELLED, "cancelled"));
    }

    @Override
    public List<LogLine> tail(String workloadId, int maxLines) {
        if (maxLines < 0) throw InvalidSpecException.of("maxLines", "maxLines must be >= 0, got " + maxLines);
        return watcher.tail(table.entry(workloadId), maxLines);
    }

    /** Returns at most 10,000 lines per call; returns at once, empty, when the workload has ended and all was read. */
    @Override
    public List<LogLine> follow(String workloadId, long fromLine, Duration wait) {
        if (fromLine < 0) throw InvalidSpecException.of("fromLine", "fromLine must be >= 0, got " + fromLine);
        Objects.requireNonNull(wait, "wait");
        return watcher.follow(table.entry(workloadId), fromLine, wait);
    }

    @Override
    public void remove(String workloadId) {
        table.lock.lock();
        try {
            table.ensureOpen();
            var e = table.entry(workloadId);
            if (!e.record.phase().isTerminal()) {
                throw new ConflictException("workload '%s' is %s; cancel it before removing it".formatted(workloadId, e.record.phase()));
            }
            try {
                e.dir.delete();
            } catch (IOException ex) {
                throw new TransientException("cannot delete workload folder %s: %s; fix its permissions and retry".formatted(e.dir.root(), ex), ex);
            }
            table.workloads.remove(workloadId);
        } finally {
            table.lock.unlock();
        }
    }

    /**
     * Makes the workloads this backend's launch supervisor started die at {@code deadline} (SIGKILL to each process
     * group) unless called again with a later one, even if this server dies first; empty lifts the limit. For a
     * server that shares its work with other replicas: the workloads it launched as leader must not outlive its
     * lease, since another replica retries them once it leads. Workloads started without the supervisor (no perl,
     * or re-adopted from an earlier server) are not limited.
     */
    public void holdWorkloadsUntil(Optional<Instant> deadline) {
        Objects.requireNonNull(deadline, "deadline");
        launcher.holdUntil(deadline);
    }

    /** Stops watching workloads and returns; running processes keep running for the next backend on this folder. */
    @Override
    public void close() {
        table.lock.lock();
        try {
            table.closed = true;
        } finally {
            table.lock.unlock();
        }
        launcher.close();
        watcher.close();
    }

    /**
     * Cancels every queued and running workload, waiting up to {@code wait} in all, then {@link #close()}s. Does
     * nothing on a closed backend: its workloads may already belong to a newer one.
     */
    public void shutdownAndKillAll(Duration wait) {
        Objects.requireNonNull(wait, "wait");
        List<LocalWorkload> live;
        table.lock.lock();
        try {
            if (table.closed) return;
            // Stop admitting first, so that no cancellation below starts a queued workload.
            for (var e : admission.drainQueued()) {
                admission.dequeue(e);
                table.finishLocked(e, ExitStatus.stopped(WorkloadPhase.CANCELLED, "cancelled at shutdown before it started"));
            }
            live = table.workloads.values().stream().filter(e -> !e.record.phase().isTerminal()).toList();
        } finally {
            table.lock.unlock();
        }
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = live.stream().map(e -> exec.submit(() -> watcher.stop(e, new WorkloadRecord.Stop(WorkloadPhase.CANCELLED, "cancelled at shutdown")))).toList();
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

    private void startAll(List<LocalWorkload> admitted) {
        starter.startAll(admitted);
    }
}
