package io.capstan.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * The queue of a {@link LocalBackend} and the resources it hands out. A workload starts when its requests fit beside
 * the running ones; the others wait in priority order (higher first, then first come), and the head of the queue is
 * never overtaken. Every method must be called with {@link WorkloadTable#lock} held.
 */
final class Admission {
    private final WorkloadTable table;
    private final ResourcePool pool;
    private final PriorityQueue<LocalWorkload> queue = new PriorityQueue<>(
            Comparator.<LocalWorkload>comparingInt(e -> -e.spec.priority()).thenComparingLong(e -> e.record.sequence()));
    private boolean draining;

    Admission(WorkloadTable table, ResourcePool pool) {
        this.table = table;
        this.pool = pool;
    }

    List<Integer> gpus() {
        return pool.gpus();
    }

    /** Why {@code request} can never fit on this machine, if it cannot. */
    Optional<String> neverFits(String id, ResourceRequest request) {
        return pool.neverFits(id, request);
    }

    void enqueue(LocalWorkload e) {
        queue.add(e);
    }

    void dequeue(LocalWorkload e) {
        queue.remove(e);
    }

    /** Stops admitting for good and returns what still waits, for the caller to settle. */
    List<LocalWorkload> drainQueued() {
        draining = true;
        return List.copyOf(queue);
    }

    /** Gives a re-adopted running workload its resources back. */
    void adopt(LocalWorkload e) {
        pool.adopt(e.id(), e.spec.requests(), e.record.state().gpus());
    }

    void release(LocalWorkload e) {
        pool.release(e.id());
    }

    /**
     * Admits queued workloads from the head of the queue while they fit; the head is never overtaken. Workloads
     * that request nothing take nothing from the head, so they start at once wherever they are in the queue.
     * Admitted workloads get their resources now and are marked {@link LocalWorkload#starting}; the caller hands the
     * returned list to {@link WorkloadStarter#startAll} after releasing the lock, so that no process is spawned under it.
     */
    List<LocalWorkload> admitLocked() {
        if (table.closed || draining || queue.isEmpty()) return List.of();
        var admitted = new ArrayList<LocalWorkload>();
        while (!queue.isEmpty() && pool.fits(queue.peek().spec.requests())) {
            reserveLocked(queue.poll(), admitted);
        }
        if (!queue.isEmpty()) {
            for (var e : List.copyOf(queue)) {
                if (e.spec.requests().equals(ResourceRequest.NONE)) {
                    queue.remove(e);
                    reserveLocked(e, admitted);
                }
            }
        }
        return admitted;
    }

    private void reserveLocked(LocalWorkload e, List<LocalWorkload> admitted) {
        e.gpus = pool.allocate(e.id(), e.spec.requests());
        e.starting = true;
        admitted.add(e);
    }
}
