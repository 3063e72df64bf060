package io.capstan.store;

import io.capstan.core.ConflictException;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.ResourceKey;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs {@link Reconciler}s the Kubernetes way. While this server holds the {@link LeaderLease}, it tails the store's
 * change feed for the registered kinds and queues the key of every changed resource; a full resync queues every
 * resource again each {@code resync} period and whenever leadership is gained. Each reconcile runs on a virtual
 * thread of its own, at most {@value #DEFAULT_CONCURRENCY} at once, and never two for one key at the same time; a
 * key changed while it is being reconciled is reconciled once more afterwards. Failures are retried with
 * exponential back-off and jitter (100 ms doubling to 60 s), except {@link PermanentFailureException}.
 *
 * <pre>{@code
 * try (var runtime = new ControllerRuntime(store, lease, clock, Duration.ofMinutes(10), meters)) {
 *     runtime.register(new TrainJobReconciler(store, backend));
 *     runtime.start();
 *     ...
 * }
 * }</pre>
 *
 * <p>Register reconcilers before {@link #start()}. {@link #close()} stops within a few seconds, waiting for
 * reconciles in flight, and releases the lease. Reconcile times are recorded as {@code capstan.reconcile} tagged
 * {@code controller} (the kind) and {@code outcome} (success, requeue, error, permanent, gone). Thread-safe.
 */
public final class ControllerRuntime implements AutoCloseable {
    static final int DEFAULT_CONCURRENCY = 16;
    private static final Logger log = LoggerFactory.getLogger(ControllerRuntime.class);
    private static final int FEED_BATCH = 500;
    private static final Duration LOOP_WAIT = Duration.ofMillis(200);
    private static final Duration STOP_WAIT = Duration.ofSeconds(5);

    /** Tuning that tests shorten; production uses {@link #DEFAULT}. */
    record Settings(Duration baseBackoff, Duration maxBackoff, int concurrency, Duration feedWait, long seed) {
        static final Settings DEFAULT = new Settings(Duration.ofMillis(100), Duration.ofSeconds(60), DEFAULT_CONCURRENCY, Duration.ofSeconds(1), System.nanoTime());

        Settings {
            Objects.requireNonNull(baseBackoff, "baseBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            Objects.requireNonNull(feedWait, "feedWait");
            if (!baseBackoff.isPositive() || maxBackoff.compareTo(baseBackoff) < 0) {
                throw new IllegalArgumentException("back-off must satisfy 0 < base <= max, got " + baseBackoff + " and " + maxBackoff);
            }
            if (concurrency < 1) throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
        }
    }

    private final ResourceStore store;
    private final LeaderLease lease;
    private final Clock clock;
    private final Duration resync;
    private final MeterRegistry meters;
    private final Settings settings;
    private final Map<String, Reconciler> reconcilers = new ConcurrentHashMap<>();
    private final WorkQueue<ResourceKey> queue = new WorkQueue<>();
    private final Semaphore permits;
    private final Map<ResourceKey, Integer> failures = new ConcurrentHashMap<>();
    private final Set<Thread> inFlight = ConcurrentHashMap.newKeySet();
    /** Guards {@link #random}, which is not thread-safe. */
    private final ReentrantLock randomLock = new ReentrantLock();
    private final RandomGenerator random;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final AtomicLong leaderEpoch = new AtomicLong();
    private volatile boolean leading;
    private volatile Thread leaseLoop;
    private volatile Thread feedLoop;
    private volatile Thread dispatchLoop;

    public ControllerRuntime(ResourceStore store, LeaderLease lease, Clock clock, Duration resync, MeterRegistry meters) {
        this(store, lease, clock, resync, meters, Settings.DEFAULT);
    }

    ControllerRuntime(ResourceStore store, LeaderLease lease, Clock clock, Duration resync, MeterRegistry meters, Settings settings) {
        this.store = Objects.requireNonNull(store, "store");
        this.lease = Objects.requireNonNull(lease, "lease");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.resync = Objects.requireNonNull(resync, "resync");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.settings = Objects.requireNonNull(settings, "settings");
        if (!resync.isPositive()) throw new IllegalArgumentException("resync period must be > 0, got " + resync);
        this.permits = new Semaphore(settings.concurrency());
        this.random = new SplittableRandom(settings.seed());
        meters.gauge("capstan.reconcile.queue", queue, WorkQueue::size);
    }

    /**
     * Adds the reconciler for its kind.
     *
     * @throws IllegalStateException after {@link #start()}
     * @throws IllegalArgumentException if the kind already has a reconciler
     */
    public void register(Reconciler reconciler) {
        Objects.requireNonNull(reconciler, "reconciler");
        if (started.get()) throw new IllegalStateException("register reconciler for " + reconciler.kind() + " before start()");
        var previous = reconcilers.putIfAbsent(reconciler.kind(), reconciler);
        if (previous != null) {
            throw new IllegalArgumentException("kind " + reconciler.kind() + " already has reconciler "
                    + previous.getClass().getName() + "; register one reconciler per kind");
        }
    }

    /** Starts competing for the lease and, while leading, reconciling. Call once. */
    public void start() {
        if (!started.compareAndSet(false, true)) throw new IllegalStateException("ControllerRuntime already started");
        log.atInfo().addKeyValue("kinds", reconcilers.keySet()).addKeyValue("holder", lease.holder())
                .addKeyValue("at", clock.instant()).log("controller runtime starting");
        leaseLoop = Thread.ofVirtual().name("capstan-lease-" + lease.name()).start(this::runLease);
        feedLoop = Thread.ofVirtual().name("capstan-controller-feed").start(this::runFeed);
        dispatchLoop = Thread.ofVirtual().name("capstan-controller-dispatch").start(this::runDispatch);
    }

    /** Whether this runtime was started and not closed, and its lease, feed and dispatch loops are alive. */
    public boolean isRunning() {
        if (!started.get() || isClosing()) return false;
        for (var loop : new Thread[] {leaseLoop, feedLoop, dispatchLoop}) {
            if (loop == null || !loop.isAlive()) return false;
        }
        return true;
    }

    /** Whether this runtime currently leads (and so reconciles). */
    public boolean isLeading() {
        return leading && lease.isLeader();
    }

    /** Queues a key for reconciliation now, as a change would; ignored unless its kind is registered. */
    public void enqueue(ResourceKey key) {
        Objects.requireNonNull(key, "key");
        if (reconcilers.containsKey(key.kind())) queue.add(key);
    }

    // ---------------------------------------------------------------- lease

    private void runLease() {
        while (!isClosing()) {
            boolean lead;
            try {
                lead = lease.tryAcquire();
            } catch (RuntimeException e) {
                lead = lease.isLeader();
                log.atWarn().setCause(e).addKeyValue("lease", lease.name()).addKeyValue("stillLeading", lead).log("lease renewal failed");
            }
            if (lead && !leading) {
                leaderEpoch.incrementAndGet();
                leading = true;
                log.atInfo().addKeyValue("lease", lease.name()).addKeyValue("holder", lease.holder()).log("became leader");
            } else if (!lead && leading) {
                leading = false;
                queue.clear();
                log.atInfo().addKeyValue("lease", lease.name()).addKeyValue("holder", lease.holder()).log("lost leadership");
            }
            if (pause(lease.renewEvery())) return;
        }
    }

    // ---------------------------------------------------------------- change feed and resync

    private void runFeed() {
        var query = reconcilers.size() == 1 ? WatchQuery.ofKind(reconcilers.keySet().iterator().next()) : WatchQuery.EVERYTHING;
        long epoch = -1;
        long after = 0;
        long nextResync = 0;
        while (!isClosing()) {
            try {
                if (!isLeading()) {
                    if (pause(LOOP_WAIT)) return;
                    continue;
                }
                long current = leaderEpoch.get();
                if (epoch != current || System.nanoTime() - nextResync >= 0) {
                    // Watch from the version read before listing, so that nothing between the two is lost.
                    long from = store.currentVersion();
                    resyncAll();
                    if (epoch != current) {
                        after = from;
                        // Deletions before `from` (while no replica led) reach no reconcile: each reconciler sweeps for them.
                        sweepAll();
                    }
                    epoch = current;
                    nextResync = System.nanoTime() + resync.toNanos();
                }
                long untilResync = Math.max(1, nextResync - System.nanoTime());
                var wait = Duration.ofNanos(Math.min(untilResync, settings.feedWait().toNanos()));
                for (var change : store.changedKeys(query, after, FEED_BATCH, wait)) {
                    after = change.resourceVersion();
                    enqueue(change.key());
                }
            } catch (ConflictException e) {
                // The feed was compacted past our position: re-list from scratch, as after an election.
                log.atWarn().setCause(e).log("change feed position too old; re-listing");
                epoch = -1;
            } catch (RuntimeException e) {
                log.atWarn().setCause(e).log("reading the change feed failed; retrying");
                if (pause(Duration.ofSeconds(1))) return;
            }
        }
    }

    private void sweepAll() {
        for (var reconciler : reconcilers.values()) {
            Thread.ofVirtual().name("sweep " + reconciler.kind()).start(() -> {
                if (!isLeading()) return;
                try {
                    reconciler.sweep();
                } catch (RuntimeException e) {
                    log.atWarn().setCause(e).addKeyValue("kind", reconciler.kind()).log("sweeping after deleted resources failed; the next election sweeps again");
                }
            });
        }
    }

    private void resyncAll() {
        for (var kind : reconcilers.keySet()) {
            Optional<String> token = Optional.empty();
            do {
                var page = store.list(new ListQuery(kind, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
                page.items().forEach(r -> queue.add(r.key()));
                token = page.continueToken();
            } while (token.isPresent() && !isClosing());
        }
    }

    // ---------------------------------------------------------------- dispatch

    private void runDispatch() {
        while (!isClosing()) {
            try {
                if (!isLeading()) {
                    if (pause(LOOP_WAIT)) return;
                    continue;
                }
                if (!permits.tryAcquire(LOOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) continue;
                Optional<ResourceKey> key;
                try {
                    key = queue.take(LOOP_WAIT);
                } catch (InterruptedException | RuntimeException e) {
                    permits.release();
                    throw e;
                }
                if (key.isEmpty()) {
                    permits.release();
                    continue;
                }
                var k = key.get();
                var thread = Thread.ofVirtual().name("reconcile " + k).unstarted(() -> runOne(k));
                inFlight.add(thread);
                thread.start();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void runOne(ResourceKey key) {
        var reconciler = reconcilers.get(key.kind());
        var sample = Timer.start();
        String outcome = "error";
        MDC.put("resource.kind", key.kind());
        MDC.put("resource.namespace", key.namespace());
        MDC.put("resource.name", key.name());
        try {
            if (!isLeading()) {
                // Leadership was lost between dispatch and start: the new leader will reconcile it.
                outcome = "skipped";
                return;
            }
            var result = reconciler.reconcile(key);
            failures.remove(key);
            if (result.requeueAfter().isPresent()) {
                outcome = "requeue";
                queue.addAfter(key, result.requeueAfter().get());
            } else {
                outcome = "success";
            }
        } catch (PermanentFailureException e) {
            outcome = "permanent";
            failures.remove(key);
            log.atWarn().setCause(e).addKeyValue("key", key).log("reconcile failed permanently; not retrying");
        } catch (NotFoundException e) {
            if (store.find(key).isEmpty()) {
                // The resource was deleted while queued; there is nothing left to reconcile.
                outcome = "gone";
                failures.remove(key);
            } else {
                retryLater(key, e);
            }
        } catch (RuntimeException e) {
            retryLater(key, e);
        } finally {
            sample.stop(Timer.builder("capstan.reconcile")
                    .tag("controller", key.kind()).tag("outcome", outcome)
                    .register(meters));
            MDC.remove("resource.kind");
            MDC.remove("resource.namespace");
            MDC.remove("resource.name");
            queue.done(key);
            permits.release();
            inFlight.remove(Thread.currentThread());
        }
    }

    private void retryLater(ResourceKey key, RuntimeException e) {
        int attempt = failures.merge(key, 1, Integer::sum);
        var delay = backoff(attempt);
        log.atWarn().setCause(e).addKeyValue("key", key).addKeyValue("attempt", attempt).addKeyValue("retryIn", delay)
                .log("reconcile failed; retrying with back-off");
        queue.addAfter(key, delay);
    }

    /** Exponential back-off with up to 20% added jitter, so that keys failing together spread out; capped at max. */
    Duration backoff(int attempt) {
        long base = settings.baseBackoff().toNanos();
        long max = settings.maxBackoff().toNanos();
        int shift = Math.min(attempt - 1, 40);
        long nominal = base > (max >> shift) ? max : Math.min(max, base << shift);
        double jitter;
        randomLock.lock();
        try {
            jitter = random.nextDouble(0.0, 0.2);
        } finally {
            randomLock.unlock();
        }
        return Duration.ofNanos(Math.min(max, (long) (nominal * (1.0 + jitter))));
    }

    // ---------------------------------------------------------------- shutdown

    private boolean isClosing() {
        return closing.get();
    }

    /** Waits for {@code d} or until close; true when closing. */
    private boolean pause(Duration d) {
        try {
            return closed.await(d.toNanos(), TimeUnit.NANOSECONDS) || isClosing();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** Stops the loops, waits up to 5 s for reconciles in flight, and releases the lease if held. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) return;
        closed.countDown();
        long deadline = System.nanoTime() + STOP_WAIT.toNanos();
        RuntimeException failure = null;
        try {
            for (var t : new Thread[] {leaseLoop, feedLoop, dispatchLoop}) joinUntil(t, deadline);
            for (var t : Set.copyOf(inFlight)) joinUntil(t, deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        leading = false;
        queue.clear();
        if (started.get()) {
            try {
                lease.release();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (!inFlight.isEmpty()) {
            log.atWarn().addKeyValue("running", inFlight.size()).log("reconciles still running at shutdown; abandoning them");
        }
        if (failure != null) throw failure;
    }

    private static void joinUntil(Thread t, long deadlineNanos) throws InterruptedException {
        if (t == null) return;
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) t.join(Duration.ofNanos(left));
    }
}
