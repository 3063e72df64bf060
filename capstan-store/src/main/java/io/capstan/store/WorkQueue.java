package io.capstan.store;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The controller work queue, as client-go's: a key is queued at most once; a key handed out by {@link #take} is
 * never handed out again until {@link #done}; a key added while it is being processed is queued again once, when
 * it is done. Delayed adds keep only the earliest due time per key. Delays run on {@link System#nanoTime()}, which
 * never jumps. Thread-safe.
 */
final class WorkQueue<K> {
    private record Due<K>(long atNanos, K key) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // All guarded by lock.
    private final LinkedHashSet<K> ready = new LinkedHashSet<>();
    private final Set<K> running = new HashSet<>();
    private final Set<K> dirty = new HashSet<>();
    private final Map<K, Long> dueAt = new HashMap<>();
    private final PriorityQueue<Due<K>> delayed = new PriorityQueue<>((a, b) -> Long.compare(a.atNanos(), b.atNanos()));

    void add(K key) {
        Objects.requireNonNull(key, "key");
        lock.lock();
        try {
            enqueue(key);
        } finally {
            lock.unlock();
        }
    }

    void addAfter(K key, Duration delay) {
        Objects.requireNonNull(key, "key");
        if (!delay.isPositive()) {
            add(key);
            return;
        }
        long at = System.nanoTime() + delay.toNanos();
        lock.lock();
        try {
            var existing = dueAt.get(key);
            if (existing != null && existing - at <= 0) return;
            dueAt.put(key, at);
            delayed.add(new Due<>(at, key));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The next ready key, now marked as being processed; empty if none became ready within {@code timeout}. */
    Optional<K> take(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                long now = System.nanoTime();
                promoteDue(now);
                if (!ready.isEmpty()) {
                    var it = ready.iterator();
                    var key = it.next();
                    it.remove();
                    running.add(key);
                    return Optional.of(key);
                }
                long wait = deadline - now;
                if (wait <= 0) return Optional.empty();
                var next = delayed.peek();
                if (next != null) wait = Math.min(wait, next.atNanos() - now);
                changed.awaitNanos(Math.max(wait, 1));
            }
        } finally {
            lock.unlock();
        }
    }

    /** Ends processing of a key from {@link #take}; requeues it if it was added meanwhile. */
    void done(K key) {
        lock.lock();
        try {
            running.remove(key);
            if (dirty.remove(key)) enqueue(key);
        } finally {
            lock.unlock();
        }
    }

    /** Forgets every queued and delayed key; keys being processed stay so until {@link #done}. */
    void clear() {
        lock.lock();
        try {
            ready.clear();
            dirty.clear();
            dueAt.clear();
            delayed.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Keys waiting to run, now or later. */
    int size() {
        lock.lock();
        try {
            return ready.size() + dueAt.size();
        } finally {
            lock.unlock();
        }
    }

    private void promoteDue(long now) {
        Due<K> next;
        while ((next = delayed.peek()) != null && next.atNanos() - now <= 0) {
            delayed.poll();
            // A later addAfter with an earlier time superseded this entry; only the current one counts.
            if (Objects.equals(dueAt.get(next.key()), next.atNanos())) {
                dueAt.remove(next.key());
                enqueue(next.key());
            }
        }
    }

    private void enqueue(K key) {
        if (running.contains(key)) dirty.add(key);
        else ready.add(key);
        changed.signalAll();
    }
}
