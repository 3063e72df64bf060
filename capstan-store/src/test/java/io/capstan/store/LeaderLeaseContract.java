package io.capstan.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.store.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LeaderLeaseContract {
    private static final Duration TTL = Duration.ofSeconds(15);
    private static final AtomicInteger NAMES = new AtomicInteger();
    private Database db;
    private final MutableClock clock = new MutableClock(Instant.parse("2025-03-01T00:00:00Z"));
    private String name;

    abstract Database openDatabase();

    @BeforeAll
    void open() {
        db = openDatabase();
        db.migrate("store");
    }

    @AfterAll
    void close() {
        if (db != null) db.close();
    }

    @BeforeEach
    void freshLease() {
        name = "lease-" + NAMES.incrementAndGet();
    }

    private LeaderLease holder(String who) {
        return new LeaderLease(db, name, who, clock, TTL);
    }

    @Test
    void anyHolderSeesTheLiveLeaderUntilItsLeaseLapsesOrIsReleased() {
        var a = holder("a");
        var b = holder("b");
        assertThat(b.liveHolder()).isEmpty();
        assertThat(a.tryAcquire()).isTrue();
        assertThat(b.liveHolder()).contains("a");
        clock.advance(TTL.plusSeconds(1));
        assertThat(b.liveHolder()).as("expired").isEmpty();
        assertThat(b.tryAcquire()).isTrue();
        assertThat(a.liveHolder()).contains("b");
        b.release();
        assertThat(a.liveHolder()).as("released").isEmpty();
    }

    @Test
    void onlyOneOfTwoHoldersLeads() {
        var a = holder("a");
        var b = holder("b");
        assertThat(a.tryAcquire()).isTrue();
        assertThat(b.tryAcquire()).isFalse();
        assertThat(a.isLeader()).isTrue();
        assertThat(b.isLeader()).isFalse();
        clock.advance(a.renewEvery());
        assertThat(a.tryAcquire()).isTrue();
        clock.advance(a.renewEvery());
        assertThat(b.tryAcquire()).isFalse();
        assertThat(a.isLeader()).isTrue();
    }

    @Test
    void theSecondTakesOverWhenTheFirstStopsRenewing() {
        var a = holder("a");
        var b = holder("b");
        assertThat(a.tryAcquire()).isTrue();
        clock.advance(TTL.minusSeconds(1));
        assertThat(a.isLeader()).as("a stops leading before its lease can pass to b").isFalse();
        assertThat(b.tryAcquire()).isFalse();
        clock.advance(Duration.ofSeconds(2));
        assertThat(b.tryAcquire()).isTrue();
        assertThat(a.tryAcquire()).isFalse();
        assertThat(b.isLeader()).isTrue();
    }

    @Test
    void releaseHandsTheLeaseOverAtOnce() {
        var a = holder("a");
        var b = holder("b");
        assertThat(a.tryAcquire()).isTrue();
        a.release();
        assertThat(a.isLeader()).isFalse();
        assertThat(b.tryAcquire()).isTrue();
    }

    @Test
    void concurrentHoldersElectExactlyOne() throws Exception {
        var start = new CountDownLatch(1);
        var results = new ArrayList<Future<Boolean>>();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 6; i++) {
                var lease = holder("h" + i);
                Callable<Boolean> race = () -> {
                    assertThat(start.await(5, TimeUnit.SECONDS)).isTrue();
                    return lease.tryAcquire();
                };
                results.add(exec.submit(race));
            }
            start.countDown();
            int winners = 0;
            for (var f : results) if (f.get(10, TimeUnit.SECONDS)) winners++;
            assertThat(winners).isEqualTo(1);
        }
    }
}
