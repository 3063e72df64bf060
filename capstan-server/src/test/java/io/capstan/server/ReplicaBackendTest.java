package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.LocalBackend;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.store.Database;
import io.capstan.store.LeaderLease;
import io.capstan.store.WorkloadOwners;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas' backends on one database, each with its own local backend (real child processes) and its own
 * folder: a workload launched by one is never launched by the other, which sees it running on its owner until the
 * owner gives it up or stops beating, and lost after that.
 */
@Timeout(60)
class ReplicaBackendTest {
    private static final Duration TTL = Duration.ofSeconds(1);

    @TempDir
    Path dir;
    Database db;
    WorkloadOwners owners;
    final List<LocalBackend> locals = new ArrayList<>();

    record Node(Replica replica, LocalBackend local, LeaderLease lease, ReplicaBackend backend) {
    }

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        owners = new WorkloadOwners(db, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        locals.forEach(l -> l.shutdownAndKillAll(Duration.ofSeconds(10)));
        db.close();
    }

    private Node node(String id) {
        var replica = new Replica(id, "test:" + dir.resolve(id), TTL);
        var local = new LocalBackend(LocalBackend.Options.of(dir.resolve(id).resolve("workloads"))
                .withCapacity(2, 1L << 30).withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofSeconds(1)));
        locals.add(local);
        var lease = new LeaderLease(db, "controllers", replica.leaseHolder(), Clock.systemUTC(), TTL);
        var backend = new ReplicaBackend(local, local::holdWorkloadsUntil, owners, replica, lease, lease::isLeader, Clock.systemUTC());
        owners.heartbeat(id, replica.description());
        return new Node(replica, local, lease, backend);
    }

    private static WorkloadSpec sleeper(String id) {
        return new WorkloadSpec(id, List.of("sleep", "30"), Map.of(), Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.empty());
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 20 s for " + what).isLessThan(deadline);
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }

    @Test
    void anotherReplicasWorkloadRunsThereWhileItBeatsIsLostOnceItStopsAndIsNeverLaunchedHere() {
        var a = node("a");
        var b = node("b");
        assertThat(a.lease().tryAcquire()).isTrue();
        a.backend().launch(sleeper("w1"));
        assertThat(a.local().find("w1").orElseThrow().phase()).isIn(WorkloadPhase.QUEUED, WorkloadPhase.RUNNING);

        var seen = b.backend().find("w1").orElseThrow();
        assertThat(seen.phase()).isEqualTo(WorkloadPhase.RUNNING);
        assertThat(seen.message()).contains("replica a");
        assertThat(b.backend().launch(sleeper("w1")).phase()).as("launched again on b").isEqualTo(WorkloadPhase.RUNNING);
        assertThat(b.local().find("w1")).as("b's own processes").isEmpty();

        // a stops beating (as when its server was killed): after a lease ttl its workload is lost, not relaunched.
        await("a's heartbeat to age past the ttl", () -> b.backend().find("w1").orElseThrow().phase() == WorkloadPhase.LOST);
        var lost = b.backend().find("w1").orElseThrow();
        assertThat(lost.message()).contains("replica a").contains("has not been seen since").contains("cannot see its process");
        assertThat(lost.finishedAt()).isPresent();
        assertThat(b.backend().launch(sleeper("w1")).phase()).isEqualTo(WorkloadPhase.LOST);
        assertThat(b.local().find("w1")).as("b's own processes").isEmpty();
        assertThat(b.backend().find("w1").orElseThrow().finishedAt()).as("lost once, at one time").isEqualTo(lost.finishedAt());
        assertThat(b.backend().tail("w1", 10)).as("its log is on a").isEmpty();

        // a, back, stops the workload that b found lost.
        owners.heartbeat("a", "test");
        a.backend().fence();
        assertThat(a.local().find("w1").orElseThrow().phase()).isEqualTo(WorkloadPhase.CANCELLED);
    }

    @Test
    void aReplicaThatSeesAnotherLeadStopsAndReleasesItsWorkloadsWhichTheLeaderThenFindsLostAtOnce() {
        var a = node("a");
        var b = node("b");
        assertThat(a.lease().tryAcquire()).isTrue();
        a.backend().launch(sleeper("w2"));
        a.backend().fence();
        assertThat(a.local().find("w2").orElseThrow().phase()).as("a still leads").isIn(WorkloadPhase.QUEUED, WorkloadPhase.RUNNING);

        a.lease().release();
        assertThat(b.lease().tryAcquire()).isTrue();
        a.backend().fence();
        assertThat(a.local().find("w2").orElseThrow().phase()).isEqualTo(WorkloadPhase.CANCELLED);
        owners.heartbeat("a", "test");
        var found = b.backend().find("w2").orElseThrow();
        assertThat(found.phase()).as("a still beats, but gave w2 up").isEqualTo(WorkloadPhase.LOST);
        assertThat(found.message()).contains("stopped it when another replica took the lead");
    }

    @Test
    void withAnotherReplicaAboutTheLeadersWorkloadsDieWhenItsLeadershipLapsesAndLiveWhileItRenews() {
        var a = node("a");
        var b = node("b");
        a.backend().start();
        b.backend().start();
        assertThat(a.lease().tryAcquire()).isTrue();
        a.backend().launch(sleeper("w4"));
        // a stops renewing, as a hung or killed leader does: its launch supervisor kills w4 when its leadership ends.
        await("w4 to be killed", () -> a.local().find("w4").orElseThrow().phase().isTerminal());
        assertThat(a.local().find("w4").orElseThrow().message()).contains("signal 9");

        // Leading again and renewing: a new workload runs on past the old deadline.
        assertThat(a.lease().tryAcquire()).isTrue();
        a.backend().launch(sleeper("w5"));
        long until = System.nanoTime() + TTL.multipliedBy(2).toNanos();
        while (System.nanoTime() < until) {
            assertThat(a.lease().tryAcquire()).isTrue();
            LockSupport.parkNanos(TTL.dividedBy(5).toNanos());
        }
        assertThat(a.local().find("w5").orElseThrow().phase()).isIn(WorkloadPhase.QUEUED, WorkloadPhase.RUNNING);
        a.backend().close();
        b.backend().close();
    }

    @Test
    void aWorkloadRecordedButNeverLaunchedByItsOwnerIsLaunchedByIt() {
        var a = node("a");
        assertThat(a.backend().find("w3")).isEmpty();
        owners.claim("w3", "a");
        assertThat(a.backend().find("w3")).as("a's own, not yet launched").isEmpty();
        a.backend().launch(sleeper("w3"));
        assertThat(a.local().find("w3")).isPresent();
    }
}
