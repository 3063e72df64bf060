package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.OverloadedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class ModelCallExecutorTest {
    private final ModelCallExecutor lane = new ModelCallExecutor("lane-test", 4);

    @AfterEach
    void close() {
        lane.close();
    }

    @Test
    void aPlatformThreadRunsTheCallItself() {
        var caller = Thread.currentThread();
        assertThat(lane.call(Thread::currentThread)).isSameAs(caller);
        assertThat(lane.workers()).isZero();
    }

    @Test
    void aVirtualThreadsCallRunsOnALanePlatformThread() throws Exception {
        var ranOn = inVirtualThread(() -> lane.call(Thread::currentThread));
        assertThat(ranOn.isVirtual()).isFalse();
        assertThat(ranOn.getName()).startsWith("lane-test-");
        assertThat(ranOn.isDaemon()).isTrue();
    }

    @Test
    void fastCallsFromManyVirtualThreadsStayOnOneWorkerAndEachGetsItsOwnAnswer() throws Exception {
        var threads = ConcurrentHashMap.<String>newKeySet();
        // one caller first, until the JIT has compiled the path and the lane's average call time has settled
        call(() -> {
            for (int i = 0; i < 20_000; i++) lane.call(() -> threads.add(Thread.currentThread().getName()));
            return null;
        });
        try (var callers = Executors.newVirtualThreadPerTaskExecutor()) {
            var results = new ArrayList<Future<Boolean>>();
            for (int c = 0; c < 16; c++) {
                int caller = c;
                results.add(callers.submit(() -> {
                    for (int i = 0; i < 5_000; i++) {
                        int asked = caller * 1_000_000 + i;
                        int answer = lane.call(() -> {
                            threads.add(Thread.currentThread().getName());
                            return asked;
                        });
                        if (answer != asked) return false;
                    }
                    return true;
                }));
            }
            for (var result : results) assertThat(result.get()).isTrue();
        }
        // a call takes about a microsecond here: a backlog of 16 callers does not outweigh waking a thread
        // (one more is allowed for a call stretched by a GC pause or a deoptimisation)
        assertThat(lane.workers()).isLessThanOrEqualTo(2);
        assertThat(threads).hasSizeLessThanOrEqualTo(2);
    }

    @Test
    void slowCallsGetAWorkerEachUpToTheLimit() throws Exception {
        var running = new AtomicInteger();
        var peak = new AtomicInteger();
        try (var callers = Executors.newVirtualThreadPerTaskExecutor()) {
            // teach the lane that calls are slow: 5 ms each
            callers.submit(() -> {
                for (int i = 0; i < 20; i++) lane.call(() -> sleep(Duration.ofMillis(5)));
                return null;
            }).get();
            assertThat(lane.workers()).isEqualTo(1);
            var all = new ArrayList<Future<?>>();
            long start = System.nanoTime();
            for (int c = 0; c < 8; c++) {
                all.add(callers.submit(() -> lane.call(() -> {
                    peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                    sleep(Duration.ofMillis(200));
                    running.decrementAndGet();
                    return null;
                })));
            }
            for (var future : all) future.get();
            // 8 calls of 200 ms on 4 workers: two waves, not eight calls in a row
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1_200));
        }
        assertThat(peak.get()).isEqualTo(4);
        assertThat(lane.workers()).isEqualTo(4);
    }

    @Test
    void aSlowModelOnOneLaneDoesNotHoldUpAnotherLane() throws Exception {
        var other = new ModelCallExecutor("other-lane", 1);
        var release = new CountDownLatch(1);
        try (var callers = Executors.newVirtualThreadPerTaskExecutor()) {
            var stuck = callers.submit(() -> lane.call(() -> await(release)));
            assertThat(inVirtualThread(() -> other.call(() -> "answered"))).isEqualTo("answered");
            assertThat(stuck.isDone()).isFalse();
            release.countDown();
            stuck.get();
        } finally {
            other.close();
        }
    }

    @Test
    void failuresReachTheCallerAsTheyWereThrownOrAsModelFailures() throws Exception {
        assertThatThrownBy(() -> inVirtualThread(() -> lane.call(() -> {
            throw new InvalidInputException("input 'x': wrong shape");
        }))).isInstanceOf(InvalidInputException.class).hasMessage("input 'x': wrong shape");
        assertThatThrownBy(() -> inVirtualThread(() -> lane.call(() -> {
            throw new IllegalStateException("broken");
        }))).isInstanceOf(IllegalStateException.class).hasMessage("broken");
        assertThatThrownBy(() -> inVirtualThread(() -> lane.call(() -> {
            throw new StackOverflowError();
        }))).isInstanceOf(ModelFailedException.class).hasMessageContaining("StackOverflowError");
        // and the worker survived all three
        assertThat(call(() -> lane.call(() -> 42))).isEqualTo(42);
    }

    @Test
    void anInterruptCancelsACallStillQueuedAndWaitsForOneAlreadyRunning() throws Exception {
        var single = new ModelCallExecutor("single", 1);
        var started = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        var queuedRan = new AtomicInteger();
        var runningCaller = new AtomicReference<Throwable>();
        var queuedCaller = new AtomicReference<Throwable>();
        try {
            var running = Thread.ofVirtual().start(() -> {
                try {
                    single.call(() -> {
                        started.countDown();
                        return await(release);
                    });
                } catch (Throwable e) {
                    runningCaller.set(e);
                }
            });
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            var queued = Thread.ofVirtual().start(() -> {
                try {
                    single.call(queuedRan::incrementAndGet);
                } catch (Throwable e) {
                    queuedCaller.set(e);
                }
            });
            awaitParked(queued);
            queued.interrupt();
            queued.join(10_000);
            assertThat(queued.isAlive()).isFalse();
            assertThat(queuedCaller.get()).isInstanceOf(ModelFailedException.class).hasMessageContaining("interrupted");

            running.interrupt();
            running.join(300);
            assertThat(running.isAlive()).as("a running call is waited for").isTrue();
            release.countDown();
            running.join(10_000);
            assertThat(runningCaller.get()).isInstanceOf(ModelFailedException.class).hasMessageContaining("interrupted");
            assertThat(call(() -> single.call(() -> "still serving"))).isEqualTo("still serving");
            assertThat(queuedRan.get()).as("the cancelled call never ran").isZero();
        } finally {
            release.countDown();
            single.close();
        }
    }

    @Test
    void closingStopsTheWorkers() throws Exception {
        var closing = new ModelCallExecutor("closing-lane", 2);
        call(() -> closing.call(() -> 1));
        assertThat(laneThreads("closing-lane")).isNotEmpty();
        closing.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!laneThreads("closing-lane").isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(laneThreads("closing-lane")).isEmpty();
        assertThatThrownBy(() -> call(() -> closing.call(() -> 1))).isInstanceOf(IllegalStateException.class);
    }

    private static Set<Thread> laneThreads(String prefix) {
        var threads = ConcurrentHashMap.<Thread>newKeySet();
        for (var thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith(prefix + "-") && thread.isAlive()) threads.add(thread);
        }
        return threads;
    }

    private static void awaitParked(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) Thread.sleep(5);
        assertThat(thread.getState()).isEqualTo(Thread.State.WAITING);
    }

    private static <T> T call(java.util.concurrent.Callable<T> work) throws Exception {
        return inVirtualThread(work);
    }

    private static <T> T inVirtualThread(java.util.concurrent.Callable<T> work) throws Exception {
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                return executor.submit(work).get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof Exception cause) throw cause;
                throw e;
            }
        }
    }

    private static Void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    private static String await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return "released";
    }

    @Test
    void aCallWhoseEstimatedWaitExceedsTheTimeoutIsRefusedAtOnce() throws Exception {
        // one worker, calls known to take 500 ms, a 5 s timeout: ten queued calls are 5 s of work, an eleventh is refused
        var deadline = new ModelCallExecutor("deadline-lane", 1, Duration.ofSeconds(5));
        for (int i = 0; i < 200; i++) deadline.recordCall(Duration.ofMillis(500).toNanos());
        var release = new CountDownLatch(1);
        try (var callers = Executors.newVirtualThreadPerTaskExecutor()) {
            var stuck = callers.submit(() -> deadline.call(() -> await(release)));
            awaitCondition(() -> deadline.queued() == 0 && deadline.workers() == 1);
            var queued = new ArrayList<Future<String>>();
            for (int i = 0; i < 10; i++) {
                int expected = i + 1;
                queued.add(callers.submit(() -> deadline.call(() -> "ran")));
                awaitCondition(() -> deadline.queued() == expected);
            }
            var refused = callers.submit(() -> deadline.call(() -> "must not run"));
            assertThatThrownBy(refused::get).hasCauseInstanceOf(OverloadedException.class)
                    .cause().hasMessageStartingWith("model replica 'deadline-lane' is overloaded: 10 calls are queued, an estimated wait of 5")
                    .hasMessageEndingWith(" ms, longer than its timeout of 5000 ms; retry later, or raise the timeout or the replicas");
            release.countDown();
            stuck.get(10, TimeUnit.SECONDS);
            for (var call : queued) assertThat(call.get(10, TimeUnit.SECONDS)).isEqualTo("ran");
        } finally {
            release.countDown();
            deadline.close();
        }
    }

    @Test
    void aCallNoWorkerTakesWithinTheTimeoutLeavesTheQueueRefused() throws Exception {
        var deadline = new ModelCallExecutor("late-lane", 1, Duration.ofMillis(300));
        var release = new CountDownLatch(1);
        var ran = new AtomicInteger();
        try (var callers = Executors.newVirtualThreadPerTaskExecutor()) {
            var stuck = callers.submit(() -> deadline.call(() -> await(release)));
            awaitCondition(() -> deadline.workers() == 1 && deadline.queued() == 0);
            long start = System.nanoTime();
            var late = callers.submit(() -> deadline.call(ran::incrementAndGet));

            assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(OverloadedException.class)
                    .cause().hasMessage("model replica 'late-lane' took no call within its timeout of 300 ms; retry later");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
            assertThat(deadline.queued()).as("the late call left the queue").isZero();
            release.countDown();
            stuck.get(10, TimeUnit.SECONDS);
            assertThat(ran.get()).as("the refused call never ran").isZero();
        } finally {
            release.countDown();
            deadline.close();
        }
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > until) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(1);
        }
    }
}
