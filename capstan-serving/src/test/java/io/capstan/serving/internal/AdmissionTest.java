package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.serving.api.InferenceError;
import io.capstan.serving.api.OverloadedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admission rule on its own: a request that finds every slot taken waits while its estimated wait (queue position
 * times the average slot hold time, over the slots) is within the timeout, and is refused at once with 429 past it or
 * past an explicit queue bound. Hold times are taught through {@link Admission#release(long)}'s admission timestamp, so
 * the estimates are exact.
 */
class AdmissionTest {
    private static final long SECOND = 1_000_000_000L;

    /** Takes a slot and gives it back as if it had been held for {@code seconds}. */
    private static void teachHold(Admission admission, long seconds) {
        admission.release(admission.acquire() - seconds * SECOND);
    }

    private static void awaitWaiting(Admission admission, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 30 * SECOND;
        while (admission.waiting() < count && System.nanoTime() < deadline) Thread.onSpinWait();
        assertThat(admission.waiting()).as("requests waiting").isEqualTo(count);
    }

    /**
     * {@code count} requests that each take a slot and give it straight back. Each releases its own slot: the order the
     * semaphore serves waiters in need not be the order they were submitted in, so releasing them in submission order
     * from the test thread can wait on one that holds no slot while the slots sit with later ones.
     */
    private static List<Future<Long>> waiters(ExecutorService pool, Admission admission, int count) {
        var futures = new ArrayList<Future<Long>>();
        for (int i = 0; i < count; i++) {
            futures.add(pool.submit(() -> {
                long admitted = admission.acquire();
                admission.release(admitted);
                return admitted;
            }));
        }
        return futures;
    }

    @Test
    @Timeout(60)
    void aQueueWhoseEstimatedWaitIsWithinTheTimeoutAdmitsAndOnePastItIsRefusedAtOnce() throws Exception {
        // 2 slots held 10 s each: position p waits about 5p s; a 62 s timeout admits 12 waiters, not a 13th
        var admission = new Admission("iris", 2, Admission.UNBOUNDED, Duration.ofSeconds(62));
        teachHold(admission, 10);
        long first = admission.acquire();
        long second = admission.acquire();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var admitted = waiters(pool, admission, 12);
            awaitWaiting(admission, 12);
            assertThat(admission.estimatedWaitNanos(12)).isCloseTo(60 * SECOND, org.assertj.core.data.Offset.offset(SECOND / 10));

            long start = System.nanoTime();
            var refusal = assertThatExceptionOfType(OverloadedException.class).isThrownBy(admission::acquire).actual();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refused without waiting").isLessThan(Duration.ofSeconds(5));
            assertThat(refusal.error()).isEqualTo(InferenceError.OVERLOADED);
            assertThat(refusal.error().httpStatus()).isEqualTo(429);
            assertThat(refusal.getMessage()).isEqualTo("model 'iris' is overloaded: 12 requests are already waiting for its"
                    + " 2 slots, an estimated wait of 65 s, longer than its timeout of 62 s; retry later, or raise the timeout"
                    + " or the replicas");
            assertThat(admission.waiting()).as("the refused request left the queue").isEqualTo(12);

            admission.release(first);
            admission.release(second);
            for (var f : admitted) f.get(30, TimeUnit.SECONDS);
        }
        assertThat(admission.waiting()).isZero();
    }

    @Test
    @Timeout(60)
    void aFastModelQueuesFarPastTheOldCountLimit() throws Exception {
        // 1 ms per request on 64 slots: 1000 waiters are about 16 ms of work, far inside a 60 s timeout
        var admission = new Admission("iris", 64, Admission.UNBOUNDED, Duration.ofSeconds(60));
        admission.release(admission.acquire() - 1_000_000);
        var held = new ArrayList<Long>();
        for (int i = 0; i < 64; i++) held.add(admission.acquire());
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var admitted = waiters(pool, admission, 1000);
            awaitWaiting(admission, 1000);
            held.forEach(admission::release);
            for (var f : admitted) f.get(30, TimeUnit.SECONDS);
        }
        assertThat(admission.waiting()).isZero();
    }

    @Test
    @Timeout(60)
    void anExplicitQueueBoundRefusesEvenWhenTheDeadlineWouldAdmit() throws Exception {
        var admission = new Admission("slow", 1, 3, Duration.ofSeconds(60));
        long held = admission.acquire();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var admitted = waiters(pool, admission, 3);
            awaitWaiting(admission, 3);
            assertThatExceptionOfType(OverloadedException.class).isThrownBy(admission::acquire)
                    .withMessage("model 'slow' is overloaded: its queue limit of 3 waiting requests is reached; retry later,"
                            + " or raise the queue limit");
            admission.release(held);
            for (var f : admitted) f.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(60)
    void aWaiterThatGetsNoSlotWithinTheTimeoutIsRefused() {
        // nothing timed yet, so the estimate admits; the wait itself is still bounded by the timeout
        var admission = new Admission("stuck", 1, Admission.UNBOUNDED, Duration.ofMillis(200));
        admission.acquire();
        assertThatExceptionOfType(OverloadedException.class).isThrownBy(admission::acquire)
                .withMessage("model 'stuck' had no free slot within its timeout of 200 ms; retry later");
        assertThat(admission.waiting()).isZero();
    }
}
