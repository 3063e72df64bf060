package io.capstan.server;

import io.capstan.backend.Backend;
import io.capstan.backend.LogLine;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.ConflictException;
import io.capstan.store.LeaderLease;
import io.capstan.store.WorkloadOwners;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local backend among several replicas on one database. Each workload is recorded with the replica that launched
 * it before it is launched, so that a leader on another replica, which cannot see its process, does not launch it a
 * second time: it finds the workload {@link WorkloadPhase#LOST} once the owner gave it up or stopped beating, and
 * the workload's controller retries it under a new id as its {@code backoffLimit} or retry policy allows. Until
 * then it reads as RUNNING on its owner.
 *
 * <p>So that a lost workload never runs beside its retry: while other replicas are about, the workloads this
 * replica launched die (killed by the launch supervisor, which outlives the server) when its leadership would end by
 * its own clock, a fifth of the lease ttl before another replica may take the lease, unless a lease renewal moves
 * that on; so they also die when this server is killed or hangs. A replica that sees another replica lead stops its
 * own workloads and records them released; it also stops any of its own that another replica found lost (after a
 * restart re-adopted them). Alone, a replica keeps its workloads across a restart on the same home, which
 * re-adopts them. Every sixth of {@link Replica#leaseTtl()} this replica records a heartbeat; a replica not seen for
 * a lease ttl is presumed gone.
 *
 * <p>Thread-safe. Calls block on the database.
 */
final class ReplicaBackend implements Backend {
    private static final Logger log = LoggerFactory.getLogger(ReplicaBackend.class);
    private static final Duration STOP_WAIT = Duration.ofSeconds(30);

    private final Backend local;
    private final Consumer<Optional<Instant>> holdWorkloads;
    private final WorkloadOwners owners;
    private final Replica replica;
    private final LeaderLease lease;
    private final BooleanSupplier leading;
    private final Clock clock;
    private final CountDownLatch closed = new CountDownLatch(1);
    /** Whether another replica was seen within a lease ttl at the last heartbeat. */
    private volatile boolean othersAlive;
    private volatile Thread loop;

    /**
     * @param holdWorkloads makes the local workloads die at the given time unless called again with a later one
     *                      (empty: no limit), even if this server dies first
     * @param leading       whether this server's controllers lead now
     */
    ReplicaBackend(Backend local, Consumer<Optional<Instant>> holdWorkloads, WorkloadOwners owners, Replica replica,
                   LeaderLease lease, BooleanSupplier leading, Clock clock) {
        this.local = Objects.requireNonNull(local, "local");
        this.holdWorkloads = Objects.requireNonNull(holdWorkloads, "holdWorkloads");
        this.owners = Objects.requireNonNull(owners, "owners");
        this.replica = Objects.requireNonNull(replica, "replica");
        this.lease = Objects.requireNonNull(lease, "lease");
        this.leading = Objects.requireNonNull(leading, "leading");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Records the first heartbeat, then keeps beating and fencing on a virtual thread until {@link #close()}. */
    void start() {
        owners.heartbeat(replica.id(), replica.description());
        loop = Thread.ofVirtual().name("capstan-replica-" + replica.id()).start(this::run);
    }

    private void run() {
        // Often enough that the workloads' deadline follows each lease renewal (every third of the ttl) closely.
        var period = replica.leaseTtl().dividedBy(6);
        while (true) {
            try {
                if (closed.await(period.toNanos(), TimeUnit.NANOSECONDS)) return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                owners.heartbeat(replica.id(), replica.description());
                othersAlive = owners.othersSeenSince(replica.id(), clock.instant().minus(replica.leaseTtl()));
                fence();
            } catch (RuntimeException e) {
                log.atWarn().setCause(e).addKeyValue("replica", replica.id()).log("replica heartbeat or fencing failed; retrying");
            } finally {
                pushDeadline();
            }
        }
    }

    /**
     * With other replicas about, workloads launched as leader die when this replica's leadership would end by its own
     * clock (before another can take the lease), also if this server dies or hangs first: each renewal moves that on,
     * and once it stops leading the last deadline stands. Alone, they outlive the server, for the next start on this
     * home to re-adopt.
     */
    private void pushDeadline() {
        if (!othersAlive) {
            holdWorkloads.accept(Optional.empty());
            return;
        }
        lease.leadingUntil().ifPresent(until -> holdWorkloads.accept(Optional.of(until)));
    }

    /** The replica id of the live leader when that is another replica; empty while this one leads or none does. */
    private Optional<String> otherLeader() {
        if (leading.getAsBoolean()) return Optional.empty();
        return lease.liveHolder().map(Replica::replicaOf).filter(r -> !r.equals(replica.id()));
    }

    /** Stops this replica's workloads that another replica leads in place of, or found lost. */
    void fence() {
        var other = otherLeader();
        var stop = local.list().stream().filter(w -> !w.phase().isTerminal())
                .filter(w -> other.isPresent() || owners.find(w.id()).flatMap(WorkloadOwners.Owner::lostAt).isPresent())
                .toList();
        if (!stop.isEmpty()) {
            log.atWarn().addKeyValue("replica", replica.id()).addKeyValue("leader", other.orElse("")).addKeyValue("workloads", stop.size())
                    .log("stopping this replica's workloads: another replica leads or found them lost, and retries them");
            stop(stop);
        }
        if (other.isPresent() && local.list().stream().allMatch(w -> w.phase().isTerminal())) {
            // Nothing of this replica runs any more, and what ended here perhaps ended with results the leader never
            // recorded: the leader may retry all of it at once.
            owners.releaseAll(replica.id());
        }
    }

    /** Cancels the workloads here, waiting up to 30 s in all, and records each released. */
    private void stop(List<WorkloadState> workloads) {
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var stopped = workloads.stream().map(w -> exec.submit(() -> {
                local.cancel(w.id());
                owners.release(w.id());
            })).toList();
            long deadline = System.nanoTime() + STOP_WAIT.toNanos();
            for (var f : stopped) {
                try {
                    f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    log.atWarn().setCause(e).log("a workload did not stop; the next round tries again");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public WorkloadState launch(WorkloadSpec spec) {
        Objects.requireNonNull(spec, "spec");
        // A leader just elected must not launch under the deadline its supervisor kept from before.
        pushDeadline();
        if (local.find(spec.id()).isEmpty()) {
            // Recorded before the launch: a replica that took over in between sees it as this replica's, never as unlaunched.
            var owner = owners.claim(spec.id(), replica.id());
            if (!owner.replica().equals(replica.id())) return foreign(owner);
        }
        return local.launch(spec);
    }

    @Override
    public Optional<WorkloadState> find(String workloadId) {
        var here = local.find(workloadId);
        if (here.isPresent()) return here;
        return foreignOwner(workloadId).map(this::foreign);
    }

    @Override
    public WorkloadState cancel(String workloadId) {
        if (local.find(workloadId).isEmpty()) {
            // Its owner stops it once it sees this replica lead; nothing of it runs here.
            var owner = foreignOwner(workloadId);
            if (owner.isPresent()) return foreign(owner.get());
        }
        return local.cancel(workloadId);
    }

    @Override
    public List<LogLine> tail(String workloadId, int maxLines) {
        if (local.find(workloadId).isEmpty() && foreignOwner(workloadId).isPresent()) return List.of();
        return local.tail(workloadId, maxLines);
    }

    @Override
    public List<LogLine> follow(String workloadId, long fromLine, Duration wait) {
        if (local.find(workloadId).isEmpty() && foreignOwner(workloadId).isPresent()) return List.of();
        return local.follow(workloadId, fromLine, wait);
    }

    @Override
    public void remove(String workloadId) {
        if (local.find(workloadId).isEmpty()) {
            var owner = foreignOwner(workloadId);
            if (owner.isPresent()) {
                var state = foreign(owner.get());
                if (!state.phase().isTerminal()) {
                    throw new ConflictException("workload '%s' still runs on replica %s; it can be removed once that replica stops it"
                            .formatted(workloadId, owner.get().replica()));
                }
                owners.forget(workloadId);
                return;
            }
        }
        local.remove(workloadId);
        owners.forget(workloadId);
    }

    @Override
    public List<WorkloadState> list() {
        return local.list();
    }

    @Override
    public Optional<ResourceRequest> capacity() {
        return local.capacity();
    }

    @Override
    public Optional<String> neverFitsQuota(String namespace, ResourceRequest total, int pods, String what) {
        return local.neverFitsQuota(namespace, total, pods, what);
    }

    private Optional<WorkloadOwners.Owner> foreignOwner(String workloadId) {
        return owners.find(workloadId).filter(o -> !o.replica().equals(replica.id()));
    }

    /**
     * A workload another replica launched: RUNNING there while that replica lives and keeps it, LOST once it gave the
     * workload up or has not been seen for a lease ttl.
     */
    private WorkloadState foreign(WorkloadOwners.Owner owner) {
        var seen = owners.seen(owner.replica());
        var where = "replica " + owner.replica() + seen.map(s -> " (" + s.description() + ")").orElse("");
        if (owner.lostAt().isEmpty()) {
            boolean gone = seen.isEmpty() || seen.get().seenAt().isBefore(clock.instant().minus(replica.leaseTtl()));
            if (!gone && owner.releasedAt().isEmpty()) {
                return new WorkloadState(owner.workloadId(), WorkloadPhase.RUNNING, Optional.empty(), "runs on " + where,
                        Optional.of(owner.launchedAt()), Optional.empty(), List.of());
            }
            owner = owners.markLost(owner.workloadId());
        }
        var why = owner.releasedAt().isPresent() ? "which stopped it when another replica took the lead"
                : "which has not been seen since " + seen.map(s -> s.seenAt().toString()).orElse("it launched it");
        return new WorkloadState(owner.workloadId(), WorkloadPhase.LOST, Optional.empty(),
                "was lost: it ran on " + where + ", " + why + ", and replica " + replica.id() + " cannot see its process",
                Optional.of(owner.launchedAt()), owner.lostAt(), List.of());
    }

    /**
     * Stops beating and fencing. With other replicas about, this replica's running workloads are stopped and
     * released first, so that the next leader retries them at once instead of waiting for them to be presumed lost;
     * alone, they keep running for the next start on this home. The local backend is closed by its own owner.
     */
    @Override
    public void close() {
        closed.countDown();
        var t = loop;
        if (t != null) {
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!othersAlive) return;
        try {
            stop(local.list().stream().filter(w -> !w.phase().isTerminal()).toList());
        } catch (RuntimeException e) {
            log.atWarn().setCause(e).log("could not hand this replica's workloads over at shutdown; the next leader finds them lost after a lease ttl");
        }
    }
}
