package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.OverloadedException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The platform threads that run one replica's model calls. Native runtimes (ONNX Runtime, XGBoost)
 * pin a virtual thread's carrier for the whole call; made from the HTTP server's virtual threads,
 * those calls would starve the carriers that socket I/O runs on, so calls from virtual threads are
 * queued here and the caller parks until its answer is ready.
 *
 * <p>One worker drains the queue. Another joins, up to {@code maxWorkers}, only when every awake
 * worker is in a call and the queued calls would keep them busy for longer than
 * {@link #QUEUE_WAIT_BUDGET_NANOS}, judged by the lane's average call time. So a model taking
 * milliseconds gets a worker per waiting call, while a model answering in microseconds stays on one
 * thread: for it a second thread costs more than it gives, since waking it is a system call and a
 * context switch per call, and two threads in one ONNX Runtime session slow each other down
 * (measured: 5.2–6.5 µs of CPU per iris call on one thread, 7–12 µs each on two).
 *
 * <p>A call waits here only while it can be answered within the timeout: one whose estimated wait (the calls queued
 * ahead of it times the average call time, over the most workers) is longer is refused at once with 429, and one that
 * no worker has taken when the timeout has passed leaves the queue with 429 too. So the queue holds at most a
 * timeout's worth of work, however many requests arrive.
 */
final class ModelCallExecutor implements AutoCloseable {
    /** How long the queued calls may keep the awake workers busy before another worker is woken. */
    static final long QUEUE_WAIT_BUDGET_NANOS = 100_000;
    private static final long INITIAL_CALL_NANOS = 10_000;
    private static final Duration NO_TIMEOUT = Duration.ofDays(365);

    private final String threadName;
    private final int maxWorkers;
    private final ConcurrentLinkedQueue<Call<?>> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** Workers not parked: running a call or about to look for one. */
    private final AtomicInteger awake = new AtomicInteger();
    /** Workers running a call. */
    private final AtomicInteger busy = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private final ConcurrentLinkedDeque<Worker> parked = new ConcurrentLinkedDeque<>();
    /** Written by the workers without a lock: a lost update only shifts an estimate. */
    private volatile long averageCallNanos = INITIAL_CALL_NANOS;
    private volatile boolean closed;
    private final long timeoutNanos;
    private volatile boolean watchdogStarted;

    ModelCallExecutor(String threadName, int maxWorkers, Duration timeout) {
        this.threadName = threadName;
        this.maxWorkers = Math.max(1, maxWorkers);
        this.timeoutNanos = Math.max(1, timeout.toNanos());
    }

    /** With no timeout: calls wait as long as the queue holds them. */
    ModelCallExecutor(String threadName, int maxWorkers) {
        this(threadName, maxWorkers, NO_TIMEOUT);
    }

    /** Runs {@code work} on a lane worker when called from a virtual thread, in the caller otherwise. */
    <T> T call(Supplier<T> work) {
        if (!Thread.currentThread().isVirtual()) return work.get();
        if (closed) throw new IllegalStateException("the model lane is closed");
        long ahead = queued.get();
        long estimate = (ahead + 1) * averageCallNanos / maxWorkers;
        if (estimate > timeoutNanos) {
            throw new OverloadedException("model replica '" + threadName + "' is overloaded: " + ahead + " calls are queued,"
                    + " an estimated wait of " + Admission.text(estimate) + ", longer than its timeout of "
                    + Admission.text(timeoutNanos) + "; retry later, or raise the timeout or the replicas");
        }
        var call = new Call<>(work, Thread.currentThread());
        queue.offer(call);
        queued.incrementAndGet();
        if (!watchdogStarted && timeoutNanos < NO_TIMEOUT.toNanos()) startWatchdog();
        int running = awake.get();
        try {
            if (running == 0) wakeOne(running);
            else helpIfBacklogged(running);
        } catch (RuntimeException | Error e) { // no thread could be started
            if (cancel(call)) throw new ModelFailedException("no thread to run the model on: " + e, e);
        }
        return call.await(this);
    }

    /**
     * Wakes another worker when every awake one is in a call and the queue would keep them busy past
     * the budget. Submitters check this, and so does each worker as it starts a call: calls queued
     * while the first worker was still waking up would otherwise never be looked at again.
     */
    private void helpIfBacklogged(int running) {
        if (running >= maxWorkers) return;
        int working = busy.get();
        int backlog = queued.get();
        if (backlog > 0 && working >= running && backlog * averageCallNanos > working * QUEUE_WAIT_BUDGET_NANOS) {
            wakeOne(running);
        }
    }

    /** Threads started so far. */
    /** Calls waiting for a worker. */
    int queued() {
        return queued.get();
    }

    int workers() {
        return started.get();
    }

    /** Stops the workers once the queue is empty; callers make sure no call is still in flight. */
    @Override
    public void close() {
        closed = true;
        for (var worker : parked) LockSupport.unpark(worker);
    }

    private void wakeOne(int runningBefore) {
        var worker = parked.pollFirst();
        if (worker != null) {
            // if the claim fails, the worker has seen the queue on its way to park and stayed awake
            if (worker.claim()) {
                awake.incrementAndGet();
                LockSupport.unpark(worker);
            }
            return;
        }
        if (awake.get() > runningBefore) return; // the same, with the worker already off the parked list
        for (int count = started.get(); count < maxWorkers; count = started.get()) {
            if (started.compareAndSet(count, count + 1)) {
                awake.incrementAndGet();
                try {
                    new Worker(threadName + "-" + (count + 1)).start();
                } catch (RuntimeException | Error e) {
                    awake.decrementAndGet();
                    started.decrementAndGet();
                    throw e;
                }
                return;
            }
        }
    }

    /**
     * Refuses the calls at the head of the queue that have waited past the timeout. Workers do the same as they take a
     * call; this watchdog covers workers that are all stuck in calls that do not return.
     */
    private synchronized void startWatchdog() {
        if (watchdogStarted) return;
        watchdogStarted = true;
        long interval = Math.clamp(timeoutNanos / 4, 10_000_000L, 1_000_000_000L);
        Thread.ofPlatform().daemon().name(threadName + "-timeouts").start(() -> {
            while (!closed) {
                LockSupport.parkNanos(interval);
                long now = System.nanoTime();
                for (Call<?> head = queue.peek(); head != null && now - head.enqueuedNanos > timeoutNanos; head = queue.peek()) {
                    if (cancel(head)) head.expire(overdue());
                }
            }
        });
    }

    private OverloadedException overdue() {
        return new OverloadedException("model replica '" + threadName + "' took no call within its timeout of "
                + Admission.text(timeoutNanos) + "; retry later");
    }

    private boolean cancel(Call<?> call) {
        if (!queue.remove(call)) return false;
        queued.decrementAndGet();
        return true;
    }

    /**
     * A moving average of call times, starting from a fast call, in which one sample moves the
     * average up by at most 3/8. Calls are timed on the wall clock: a worker descheduled in the middle
     * of a fast call, or a model's first call (ONNX Runtime initialises lazily), must not make the model
     * look slow. A model that is slow call after call is known as slow within 15 calls (1 ms).
     */
    void recordCall(long nanos) {
        long average = averageCallNanos;
        long sample = Math.min(nanos, 4 * average);
        averageCallNanos = Math.max(1, average + (sample - average) / 8);
    }

    private final class Worker extends Thread {
        private static final int RUNNING = 0;
        private static final int PARKED = 1;
        private final AtomicInteger state = new AtomicInteger(RUNNING);

        Worker(String name) {
            super(name);
            setDaemon(true);
        }

        boolean claim() {
            return state.compareAndSet(PARKED, RUNNING);
        }

        @Override
        public void run() {
            while (true) {
                var call = queue.poll();
                if (call != null) {
                    queued.decrementAndGet();
                    if (System.nanoTime() - call.enqueuedNanos > timeoutNanos) {
                        call.expire(overdue());
                        continue;
                    }
                    busy.incrementAndGet();
                    helpIfBacklogged(awake.get());
                    long nanos = call.compute();
                    busy.decrementAndGet();
                    recordCall(nanos);
                    call.answer();
                    continue;
                }
                state.set(PARKED);
                parked.addFirst(this);
                awake.decrementAndGet();
                // a call offered before the decrement may have seen this worker awake and woken nobody
                if (!queue.isEmpty() && claim()) {
                    awake.incrementAndGet();
                    parked.remove(this);
                    continue;
                }
                while (state.get() == PARKED) {
                    if (closed && claim()) {
                        parked.remove(this);
                        return;
                    }
                    LockSupport.park(this);
                }
            }
        }
    }

    private static final class Call<T> {
        private final Supplier<T> work;
        private final Thread caller;
        private final long enqueuedNanos = System.nanoTime();
        private T value;
        private Throwable failure;
        private volatile boolean done;

        Call(Supplier<T> work, Thread caller) {
            this.work = work;
            this.caller = caller;
        }

        /** Runs the work and returns how long it took. */
        long compute() {
            long start = System.nanoTime();
            try {
                value = work.get();
            } catch (Throwable e) {
                failure = e;
            }
            return System.nanoTime() - start;
        }

        void answer() {
            done = true;
            LockSupport.unpark(caller);
        }

        /** Answers with a refusal, the work never run: no worker took it within the timeout. */
        void expire(OverloadedException refusal) {
            failure = refusal;
            answer();
        }

        /**
         * Parks until the call has run. An interrupt cancels a call still queued; one already running
         * is waited for, since the replica must not be released (and maybe closed) under a native call.
         */
        T await(ModelCallExecutor lane) {
            boolean interrupted = false;
            while (!done) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                    if (lane.cancel(this)) break;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
                throw new ModelFailedException("interrupted while the model ran", null);
            }
            if (failure == null) return value;
            if (failure instanceof InferenceException inference) throw inference;
            if (failure instanceof RuntimeException runtime) throw runtime;
            throw new ModelFailedException("the model failed: " + failure, failure);
        }
    }
}
