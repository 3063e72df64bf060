package io.capstan.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.store.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WorkloadOwnersContract {
    private static final AtomicInteger IDS = new AtomicInteger();
    private final MutableClock clock = new MutableClock(Instant.parse("2025-03-01T00:00:00Z"));
    private Database db;
    private WorkloadOwners owners;
    private String id;

    abstract Database openDatabase();

    @BeforeAll
    void open() {
        db = openDatabase();
        db.migrate("store");
        owners = new WorkloadOwners(db, clock);
    }

    @AfterAll
    void close() {
        if (db != null) db.close();
    }

    @BeforeEach
    void freshId() {
        id = "w-" + IDS.incrementAndGet();
    }

    @Test
    void theFirstClaimWinsAndLaterOnesReadIt() throws Exception {
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var claims = java.util.stream.IntStream.range(0, 8)
                    .mapToObj(i -> exec.submit((Callable<WorkloadOwners.Owner>) () -> owners.claim(id, "r" + i))).toList();
            var winner = claims.getFirst().get(10, TimeUnit.SECONDS).replica();
            for (var c : claims) assertThat(c.get(10, TimeUnit.SECONDS).replica()).isEqualTo(winner);
        }
        var owner = owners.find(id).orElseThrow();
        assertThat(owner.launchedAt()).isEqualTo(clock.instant());
        assertThat(owner.releasedAt()).isEmpty();
        assertThat(owner.lostAt()).isEmpty();
    }

    @Test
    void lostAndReleasedAreRecordedOnceAndForgetRemovesTheRow() {
        owners.claim(id, "a");
        clock.advance(Duration.ofSeconds(1));
        var lostAt = clock.instant();
        assertThat(owners.markLost(id).lostAt()).contains(lostAt);
        clock.advance(Duration.ofSeconds(1));
        assertThat(owners.markLost(id).lostAt()).as("set once").contains(lostAt);
        owners.release(id);
        var releasedAt = owners.find(id).orElseThrow().releasedAt();
        clock.advance(Duration.ofSeconds(1));
        owners.releaseAll("a");
        assertThat(owners.find(id).orElseThrow().releasedAt()).isEqualTo(releasedAt).isPresent();
        owners.forget(id);
        assertThat(owners.find(id)).isEmpty();
    }

    @Test
    void heartbeatsTellWhichOtherReplicasAreAlive() {
        var me = id + "-me";
        var other = id + "-other";
        owners.heartbeat(me, "host:/me");
        assertThat(owners.seen(me).orElseThrow().description()).isEqualTo("host:/me");
        assertThat(owners.othersSeenSince(me, clock.instant().minusSeconds(60))).as("only itself").isFalse();
        owners.heartbeat(other, "host:/other");
        assertThat(owners.othersSeenSince(me, clock.instant().minusSeconds(1))).isTrue();
        clock.advance(Duration.ofSeconds(10));
        owners.heartbeat(me, "host:/me");
        assertThat(owners.othersSeenSince(me, clock.instant().minusSeconds(5))).as("the other stopped beating").isFalse();
        assertThat(owners.seen(me).orElseThrow().seenAt()).isEqualTo(clock.instant());
        assertThat(owners.seen(id + "-never")).isEmpty();
    }
}
