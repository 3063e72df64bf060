package io.capstan.kubernetes.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.Supplier;

/** Polls until a value is what a test expects: what a controller or the server does in the background shows up a little later. */
public final class Eventually {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(100);

    private Eventually() {
    }

    /** Returns once {@code actual} gives {@code expected}; after 30 s, fails showing the last value it gave. */
    public static <T> void eventually(Supplier<T> actual, T expected) {
        eventually(TIMEOUT, actual, expected);
    }

    /** Returns once {@code actual} gives {@code expected}; after {@code timeout}, fails showing the last value it gave. */
    public static <T> void eventually(Duration timeout, Supplier<T> actual, T expected) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = actual.get();
            if (expected.equals(last)) return;
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        assertThat(last).as("after " + timeout).isEqualTo(expected);
    }
}
