package io.capstan.serving.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The last {@code capacity} answered requests of one InferenceService, kept in memory for in-process readers such
 * as drift monitors. Recording costs one counter increment and one array store: the request and response objects
 * are kept as they are, never copied or encoded, and the oldest exchange is overwritten. Thread-safe; readers see
 * a consistent snapshot of whole exchanges, possibly missing the few being written at that moment.
 */
public final class PayloadTap {
    /** One answered request: when, which revision answered, what came in and what went out. */
    public record Exchange(long sequence, long epochMillis, String revision, InferenceRequest request, InferenceResponse response) {
    }

    private final AtomicReferenceArray<Exchange> ring;
    /** The next sequence number; the ring slot of sequence s is s mod capacity. */
    private final AtomicLong next = new AtomicLong();
    private final java.time.Clock clock;

    public PayloadTap(int capacity, java.time.Clock clock) {
        if (capacity < 1) throw new IllegalArgumentException("a payload tap holds at least one exchange, got " + capacity);
        this.ring = new AtomicReferenceArray<>(capacity);
        this.clock = clock;
    }

    public int capacity() {
        return ring.length();
    }

    /** How many exchanges were ever recorded. */
    public long recorded() {
        return next.get();
    }

    public void record(String revision, InferenceRequest request, InferenceResponse response) {
        long seq = next.getAndIncrement();
        ring.set((int) (seq % ring.length()), new Exchange(seq, clock.millis(), revision, request, response));
    }

    /** The exchanges still held with a sequence number of at least {@code from}, oldest first. */
    public List<Exchange> since(long from) {
        long end = next.get();
        long start = Math.max(from, end - ring.length());
        var out = new ArrayList<Exchange>((int) Math.max(0, end - start));
        for (long s = start; s < end; s++) {
            var e = ring.get((int) (s % ring.length()));
            if (e != null && e.sequence() == s) out.add(e);
        }
        return out;
    }
}
