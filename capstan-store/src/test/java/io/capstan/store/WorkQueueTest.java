package io.capstan.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkQueueTest {
    private static final Duration NOW = Duration.ZERO;
    private final WorkQueue<String> queue = new WorkQueue<>();

    @Test
    void aQueuedKeyIsQueuedOnce() throws Exception {
        queue.add("a");
        queue.add("b");
        queue.add("a");
        assertThat(queue.take(NOW)).contains("a");
        assertThat(queue.take(NOW)).contains("b");
        assertThat(queue.take(NOW)).isEmpty();
    }

    @Test
    void aKeyAddedWhileRunningRunsAgainOnceAfterwards() throws Exception {
        queue.add("a");
        assertThat(queue.take(NOW)).contains("a");
        queue.add("a");
        queue.add("a");
        assertThat(queue.take(NOW)).as("never handed out twice at once").isEmpty();
        queue.done("a");
        assertThat(queue.take(NOW)).contains("a");
        queue.done("a");
        assertThat(queue.take(NOW)).isEmpty();
    }

    @Test
    void delayedKeysBecomeReadyWhenDueAndTheEarliestDelayWins() throws Exception {
        long t0 = System.nanoTime();
        queue.addAfter("a", Duration.ofSeconds(30));
        queue.addAfter("a", Duration.ofMillis(20));
        queue.addAfter("a", Duration.ofSeconds(10));
        assertThat(queue.size()).isEqualTo(1);
        assertThat(queue.take(Duration.ofSeconds(5))).contains("a");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(20), Duration.ofSeconds(5));
        queue.done("a");
        assertThat(queue.take(Duration.ofMillis(50))).isEmpty();
    }

    @Test
    void clearForgetsQueuedAndDelayedKeys() throws Exception {
        queue.add("a");
        queue.addAfter("b", Duration.ofMillis(1));
        queue.clear();
        assertThat(queue.take(Duration.ofMillis(20))).isEmpty();
        assertThat(queue.size()).isZero();
    }
}
