package io.capstan.backend;

import io.capstan.core.NotFoundException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Launches and observes workloads: local child processes here, Pods in Kubernetes. Launch is idempotent on the
 * workload id, so a controller that crashed after launching and before recording can launch again safely.
 * Thread-safe.
 */
public interface Backend extends AutoCloseable {

    /** Starts the workload, or queues it until its requested resources fit; returns its state. Idempotent on id. */
    WorkloadState launch(WorkloadSpec spec);

    /**
     * The most that one workload can ever be granted here (this machine's CPUs, memory and GPUs), so that a
     * caller can refuse a request that would otherwise fail at launch; empty where there is no such limit.
     */
    default Optional<ResourceRequest> capacity() {
        return Optional.empty();
    }

    /**
     * Why work asking {@code total} over {@code pods} workloads could never be admitted in {@code namespace}, even
     * with nothing else running there, naming the quota; empty when it could, or where there are no quotas.
     * {@code what} names the work in the message, such as {@code "PyTorchJob team-a/mnist (3 ranks)"}.
     */
    default Optional<String> neverFitsQuota(String namespace, ResourceRequest total, int pods, String what) {
        return Optional.empty();
    }

    /** The current state, or empty if this backend has never seen the id. */
    Optional<WorkloadState> find(String workloadId);

    /** Cancels the workload and its whole process tree; a finished workload is left as it is. */
    WorkloadState cancel(String workloadId);

    /**
     * The last {@code maxLines} lines of combined stdout and stderr, oldest first.
     *
     * @throws NotFoundException if the id is unknown
     */
    List<LogLine> tail(String workloadId, int maxLines);

    /**
     * Lines after position {@code fromLine} (0 = the start), waiting up to {@code wait} for the first new one;
     * for {@code logs -f}. Returns an empty list when nothing new arrived in time.
     */
    List<LogLine> follow(String workloadId, long fromLine, Duration wait);

    /** Forgets a finished workload and deletes its logs and working files. */
    void remove(String workloadId);

    /** Every workload this backend knows, including those recovered after a restart. */
    List<WorkloadState> list();

    /**
     * Cleans up after owners that no longer exist: every workload whose owner ({@code ownerOf} of its id; empty for
     * workloads of other kinds) is not in {@code liveOwners} is cancelled while it runs and forgotten once finished.
     */
    default void reapOrphans(java.util.function.Function<String, Optional<String>> ownerOf, java.util.Set<String> liveOwners) {
        for (var w : list()) {
            var owner = ownerOf.apply(w.id());
            if (owner.isEmpty() || liveOwners.contains(owner.get())) continue;
            if (w.phase().isTerminal()) remove(w.id());
            else cancel(w.id());
        }
    }

    /**
     * As {@link #reapOrphans}, for a caller that may race with launches: only workloads known before
     * {@code liveOwners} is read are candidates, so that an owner created (and launched) meanwhile is never taken for
     * a deleted one.
     */
    default void reapOrphans(java.util.function.Function<String, Optional<String>> ownerOf, java.util.function.Supplier<java.util.Set<String>> liveOwners) {
        var known = new java.util.HashSet<String>();
        for (var w : list()) known.add(w.id());
        var live = liveOwners.get();
        reapOrphans(id -> known.contains(id) ? ownerOf.apply(id) : Optional.empty(), live);
    }

    @Override
    void close();
}
