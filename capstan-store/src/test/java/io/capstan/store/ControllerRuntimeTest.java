package io.capstan.store;

import static io.capstan.store.testing.TestResources.aResource;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.PermanentFailureException;
import io.capstan.core.ResourceKey;
import io.capstan.core.TransientException;
import io.capstan.store.testing.StoreWaits;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControllerRuntimeTest {
    private static final Duration LONG = Duration.ofHours(1);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ControllerRuntime.Settings FAST =
            new ControllerRuntime.Settings(Duration.ofMillis(20), Duration.ofSeconds(1), 4, Duration.ofMillis(200), 42);

    private Database db;
    private ResourceStore store;
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final List<ControllerRuntime> runtimes = new ArrayList<>();

    @BeforeEach
    void open() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
    }

    @AfterEach
    void close() {
        runtimes.forEach(ControllerRuntime::close);
        db.close();
    }

    private ControllerRuntime runtime(Reconciler r, Duration resync, String holder) {
        var lease = new LeaderLease(db, "controllers", holder, Clock.systemUTC(), Duration.ofMillis(600));
        var runtime = new ControllerRuntime(store, lease, Clock.systemUTC(), resync, meters, FAST);
        runtime.register(r);
        runtimes.add(runtime);
        runtime.start();
        return runtime;
    }

    private static ResourceKey key(String name) {
        return new ResourceKey("Job", "default", name);
    }

    private void create(String name) {
        store.create(aResource("Job", "default", name).build());
    }

    /** Writes status Ready at the observed generation; a level-triggered, idempotent reconciler. */
    record ReadyReconciler(ResourceStore store) implements Reconciler {
        @Override
        public String kind() {
            return "Job";
        }

        @Override
        public Result reconcile(ResourceKey key) {
            var found = store.find(key);
            if (found.isEmpty()) return Result.done();
            var r = found.get();
            var desired = r.status().withPhase("Ready").withObservedGeneration(r.metadata().generation());
            if (!desired.equals(r.status())) store.updateStatus(key, r.metadata().resourceVersion(), desired);
            return Result.done();
        }
    }

    /** Records every call and answers with the given function. */
    static class Recording implements Reconciler {
        record Call(ResourceKey key, long atNanos) {}

        final LinkedBlockingQueue<Call> calls = new LinkedBlockingQueue<>();
        final Map<ResourceKey, AtomicInteger> count = new ConcurrentHashMap<>();
        private final Function<Integer, Result> answer;

        Recording(Function<Integer, Result> answer) {
            this.answer = answer;
        }

        @Override
        public String kind() {
            return "Job";
        }

        @Override
        public Result reconcile(ResourceKey key) {
            int n = count.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            calls.add(new Call(key, System.nanoTime()));
            return answer.apply(n);
        }

        Call next() throws InterruptedException {
            var c = calls.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(c).as("a reconcile within " + WAIT).isNotNull();
            return c;
        }

        void assertQuietFor(Duration d) throws InterruptedException {
            assertThat(calls.poll(d.toMillis(), TimeUnit.MILLISECONDS)).as("no further reconcile").isNull();
        }
    }

    /** Keeps a thing outside the store per resource, as a controller keeps a workload, and cleans up after deletions. */
    record Owning(ResourceStore store, Set<String> owned) implements Reconciler {
        @Override
        public String kind() {
            return "Job";
        }

        @Override
        public Result reconcile(ResourceKey key) {
            if (store.find(key).isPresent()) owned.add(key.name());
            else owned.remove(key.name());
            return Result.done();
        }

        @Override
        public void sweep() {
            var live = new java.util.HashSet<String>();
            store.list(new ListQuery("Job", java.util.Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, java.util.Optional.empty()))
                    .items().forEach(r -> live.add(r.metadata().name()));
            owned.retainAll(live);
        }
    }

    @Test
    void aResourceDeletedWhileNoReplicaLedIsSweptByTheNextLeader() {
        var owned = ConcurrentHashMap.<String>newKeySet();
        var first = runtime(new Owning(store, owned), LONG, "first");
        StoreWaits.until(store, WAIT, "first leads", first::isLeading);
        create("kept");
        create("gone");
        StoreWaits.until(store, WAIT, "both owned", () -> owned.containsAll(Set.of("kept", "gone")));
        first.close();
        // Deleted while no replica leads: the next leader's feed starts after it, and its resync lists only what exists.
        store.delete(key("gone"));
        var second = runtime(new Owning(store, owned), LONG, "second");
        StoreWaits.until(store, WAIT, "second leads", second::isLeading);
        StoreWaits.until(store, WAIT, "the deleted resource's thing cleaned up", () -> !owned.contains("gone"));
        assertThat(owned).containsExactly("kept");
    }

    @Test
    void reconcilesAnAddedResourceAndSettles() {
        runtime(new ReadyReconciler(store), LONG, "a");
        create("x");
        StoreWaits.until(store, WAIT, "x Ready", () -> store.get(key("x")).status().phase().equals("Ready"));
        var r = store.get(key("x"));
        store.update(r.withSpec(r.spec().put("image", "v2")));
        StoreWaits.until(store, WAIT, "x observed generation 2", () -> store.get(key("x")).status().observedGeneration() == 2);
        long settled = store.currentVersion();
        assertThat(store.changes(WatchQuery.EVERYTHING, settled, 10, Duration.ofMillis(400)))
                .as("a settled controller writes nothing more").isEmpty();
        assertThat(meters.get("capstan.reconcile").tag("controller", "Job").tag("outcome", "success").timer().count()).isPositive();
    }

    @Test
    void aSecondReconcileInARowChangesNothing() {
        create("twice");
        var reconciler = new ReadyReconciler(store);
        reconciler.reconcile(key("twice"));
        var first = store.get(key("twice"));
        long version = store.currentVersion();
        reconciler.reconcile(key("twice"));
        assertThat(store.get(key("twice"))).isEqualTo(first);
        assertThat(store.currentVersion()).isEqualTo(version);
    }

    @Test
    void neverReconcilesOneKeyTwiceAtOnceAndCatchesUpAfterwards() throws Exception {
        create("a");
        create("b");
        var gate = new CountDownLatch(1);
        var aStarted = new CountDownLatch(1);
        var active = new AtomicInteger();
        var maxActive = new AtomicInteger();
        var recording = new Recording(n -> Reconciler.Result.done()) {
            @Override
            public Result reconcile(ResourceKey key) {
                if (!key.name().equals("a")) return super.reconcile(key);
                maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
                try {
                    var result = super.reconcile(key);
                    aStarted.countDown();
                    if (count.get(key).get() == 1) await(gate);
                    return result;
                } finally {
                    active.decrementAndGet();
                }
            }
        };
        runtime(recording, LONG, "a");
        assertThat(aStarted.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 5; i++) {
            var r = store.get(key("a"));
            store.update(r.withSpec(r.spec().put("image", "v" + i)));
        }
        // Other keys proceed while "a" is blocked.
        StoreWaits.until(store, WAIT, "b reconciled", () -> recording.count.containsKey(key("b")));
        gate.countDown();
        // Updates the runtime saw while "a" was blocked coalesce into one more reconcile; updates its feed delivers
        // only after that one (a loaded machine) may add one each, never more than the five updates made.
        StoreWaits.until(store, WAIT, "a reconciled again", () -> recording.count.get(key("a")).get() >= 2);
        StoreWaits.until(store, WAIT, "a settled", () -> {
            recording.calls.clear();
            try {
                recording.assertQuietFor(Duration.ofMillis(300));
                return true;
            } catch (AssertionError e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        });
        assertThat(recording.count.get(key("a")).get()).isBetween(2, 6);
        assertThat(maxActive.get()).isEqualTo(1);
    }

    @Test
    void requeuesAfterTheRequestedDelay() throws Exception {
        create("r");
        var recording = new Recording(n -> n <= 3 ? Reconciler.Result.requeueAfter(Duration.ofMillis(30)) : Reconciler.Result.done());
        runtime(recording, LONG, "a");
        long last = recording.next().atNanos();
        for (int i = 0; i < 3; i++) {
            long at = recording.next().atNanos();
            assertThat(Duration.ofNanos(at - last)).isGreaterThanOrEqualTo(Duration.ofMillis(30));
            last = at;
        }
        recording.assertQuietFor(Duration.ofMillis(300));
    }

    @Test
    void retriesFailuresWithExponentialBackOff() throws Exception {
        create("f");
        var recording = new Recording(n -> {
            if (n <= 3) throw new TransientException("backend not ready, attempt " + n);
            return Reconciler.Result.done();
        });
        runtime(recording, LONG, "a");
        long last = recording.next().atNanos();
        for (int i = 0; i < 3; i++) {
            long at = recording.next().atNanos();
            assertThat(Duration.ofNanos(at - last)).as("gap before retry " + (i + 1))
                    .isGreaterThanOrEqualTo(Duration.ofMillis(20L << i));
            last = at;
        }
        recording.assertQuietFor(Duration.ofMillis(300));
    }

    @Test
    void runsOnlyBetweenStartAndClose() {
        var runtime = new ControllerRuntime(store, LeaderLease.of(db, "running", Clock.systemUTC()), Clock.systemUTC(), LONG, meters, FAST);
        assertThat(runtime.isRunning()).as("before start").isFalse();
        runtime.start();
        assertThat(runtime.isRunning()).as("started").isTrue();
        runtime.close();
        assertThat(runtime.isRunning()).as("closed").isFalse();
    }

    @Test
    void backOffDoublesWithBoundedJitterUpToTheMaximum() {
        var runtime = new ControllerRuntime(store, LeaderLease.of(db, "unused", Clock.systemUTC()), Clock.systemUTC(), LONG, meters, FAST);
        assertThat(runtime.backoff(1)).isBetween(Duration.ofMillis(20), Duration.ofMillis(24));
        assertThat(runtime.backoff(3)).isBetween(Duration.ofMillis(80), Duration.ofMillis(96));
        assertThat(runtime.backoff(100)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void permanentFailuresAreNotRetried() throws Exception {
        create("p");
        var recording = new Recording(n -> {
            throw new PermanentFailureException("spec can never run");
        });
        runtime(recording, LONG, "a");
        recording.next();
        recording.assertQuietFor(Duration.ofMillis(400));
    }

    @Test
    void resyncReconcilesUnchangedResourcesPeriodically() throws Exception {
        create("s");
        var recording = new Recording(n -> Reconciler.Result.done());
        runtime(recording, Duration.ofMillis(150), "a");
        for (int i = 0; i < 3; i++) assertThat(recording.next().key()).isEqualTo(key("s"));
    }

    @Test
    void onlyTheLeaderReconcilesAndAFollowerTakesOverWhenItStops() throws Exception {
        var first = new Recording(n -> Reconciler.Result.done());
        var second = new Recording(n -> Reconciler.Result.done());
        var leader = runtime(first, LONG, "first");
        StoreWaits.until(store, WAIT, "first leads", leader::isLeading);
        var follower = runtime(second, LONG, "second");
        create("l");
        assertThat(first.next().key()).isEqualTo(key("l"));
        assertThat(follower.isLeading()).isFalse();
        second.assertQuietFor(Duration.ofMillis(300));
        long t0 = System.nanoTime();
        leader.close();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("close is prompt").isLessThan(Duration.ofSeconds(3));
        assertThat(second.next().key()).isEqualTo(key("l"));
        assertThat(follower.isLeading()).isTrue();
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) throw new AssertionError("gate never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
