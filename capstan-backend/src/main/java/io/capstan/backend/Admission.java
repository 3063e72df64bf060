package io.capstan.backend;

import io.capstan.core.quota.QuotaLedger;
import io.capstan.core.quota.QuotaUsage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * The queue of a {@link LocalBackend} and the resources it hands out. A workload starts when its requests fit beside
 * the running ones and its namespace's quota; the others wait in priority order (higher first, then first come), and
 * the head of the queue is never overtaken by a workload that needs the machine's resources.
 *
 * <p>Quotas ({@link QuotaLedger}): a workload charged to a namespace takes one pod plus its requests from that
 * namespace's quota. One that does not fit its quota waits without holding up other namespaces; the later
 * workloads of its namespace wait behind it, so a large one is not starved by small ones. The quota is charged in
 * the same step that takes the machine's resources, under the backend's lock, so two workloads never both fit the
 * last of a quota. A gang (see {@link WorkloadSpec.Gang}) is admitted once all its members have been launched, as one
 * unit, or not at all.
 *
 * <p>Every method must be called with {@link WorkloadTable#lock} held.
 */
final class Admission {
    private static final Comparator<LocalWorkload> ORDER =
            Comparator.<LocalWorkload>comparingInt(e -> -e.spec.priority()).thenComparingLong(e -> e.record.sequence());
    static final String WAITING_FOR_RESOURCES = "waiting for resources";

    private final WorkloadTable table;
    private final ResourcePool pool;
    private final QuotaLedger quotas;
    private final PriorityQueue<LocalWorkload> queue = new PriorityQueue<>(ORDER);
    private int queuedGangMembers;
    private boolean draining;

    Admission(WorkloadTable table, ResourcePool pool, QuotaLedger quotas) {
        this.table = table;
        this.pool = pool;
        this.quotas = quotas;
    }

    List<Integer> gpus() {
        return pool.gpus();
    }

    /** Why {@code spec} can never start here: more than this machine has, or more than its namespace's quota allows. */
    Optional<String> neverFits(WorkloadSpec spec) {
        return pool.neverFits("workload '" + spec.id() + "'", spec.requests())
                .or(() -> spec.namespace().flatMap(ns -> quotas.neverFits(ns, usage(spec), "this workload").map(m -> "exceeded quota: " + m)));
    }

    void enqueue(LocalWorkload e) {
        queue.add(e);
        if (e.spec.gang().isPresent()) queuedGangMembers++;
    }

    void dequeue(LocalWorkload e) {
        if (queue.remove(e) && e.spec.gang().isPresent()) queuedGangMembers--;
    }

    /** Stops admitting for good and returns what still waits, for the caller to settle. */
    List<LocalWorkload> drainQueued() {
        draining = true;
        return List.copyOf(queue);
    }

    /** Gives a re-adopted running workload its resources and its quota back. */
    void adopt(LocalWorkload e) {
        pool.adopt(e.id(), e.spec.requests(), e.record.state().gpus());
        e.spec.namespace().ifPresent(ns -> quotas.charge(ns, e.id(), usage(e.spec)));
    }

    void release(LocalWorkload e) {
        pool.release(e.id());
        quotas.release(e.id());
    }

    /**
     * Admits queued workloads that fit; see the class comment for the order. Admitted workloads get their resources
     * now and are marked {@link LocalWorkload#starting}; the caller hands the returned list to
     * {@link WorkloadStarter#startAll} after releasing the lock, so that no process is spawned under it.
     */
    List<LocalWorkload> admitLocked() {
        if (table.closed || draining || queue.isEmpty()) return List.of();
        if (queuedGangMembers == 0 && quotas.isEmpty()) return admitByMachineLocked();
        return admitByQuotaLocked();
    }

    /**
     * Without quotas or gangs: admits from the head of the queue while it fits; the workloads that request nothing
     * take nothing from the head, so they start at once wherever they are in the queue.
     */
    private List<LocalWorkload> admitByMachineLocked() {
        var admitted = new ArrayList<LocalWorkload>();
        while (!queue.isEmpty() && pool.fits(queue.peek().spec.requests())) {
            var e = queue.poll();
            e.spec.namespace().ifPresent(ns -> quotas.charge(ns, e.id(), usage(e.spec)));
            reserveLocked(e, admitted);
        }
        if (!queue.isEmpty()) {
            for (var e : List.copyOf(queue)) {
                if (e.spec.requests().equals(ResourceRequest.NONE)) {
                    queue.remove(e);
                    e.spec.namespace().ifPresent(ns -> quotas.charge(ns, e.id(), usage(e.spec)));
                    reserveLocked(e, admitted);
                }
            }
        }
        return admitted;
    }

    private List<LocalWorkload> admitByQuotaLocked() {
        var ordered = new ArrayList<>(queue);
        ordered.sort(ORDER);
        var gangs = new LinkedHashMap<WorkloadSpec.Gang, List<LocalWorkload>>();
        for (var e : ordered) e.spec.gang().ifPresent(g -> gangs.computeIfAbsent(g, k -> new ArrayList<>()).add(e));
        var admitted = new ArrayList<LocalWorkload>();
        var blocked = new HashMap<String, String>();
        boolean machineFull = false;
        for (var e : ordered) {
            List<LocalWorkload> unit;
            var gang = e.spec.gang();
            if (gang.isPresent()) {
                unit = gangs.remove(gang.get());
                if (unit == null) continue; // the gang was looked at with its first member
                if (unit.size() + activeMembers(gang.get()) < gang.get().size()) continue; // not all launched yet
            } else {
                unit = List.of(e);
            }
            var ns = e.spec.namespace();
            var what = gang.map(g -> "this gang of " + g.size() + " workloads").orElse("this workload");
            var demand = unit.stream().map(m -> m.spec.requests()).reduce(ResourceRequest.NONE, Admission::plus);
            var usages = new LinkedHashMap<String, QuotaUsage>();
            for (var m : unit) if (m.spec.namespace().isPresent()) usages.put(m.id(), usage(m.spec));
            var asked = usages.values().stream().reduce(QuotaUsage.ZERO, QuotaUsage::plus);
            if (ns.isPresent() && blocked.containsKey(ns.get())) {
                markQuotaWait(unit, Optional.of(blocked.get(ns.get())));
                continue;
            }
            if (gang.isPresent()) {
                // Each member fits alone (checked at launch); together they may not, and then they never will.
                var never = pool.neverFits("gang '" + gang.get().name() + "' (" + unit.size() + " workloads together)", demand)
                        .or(() -> ns.flatMap(n -> quotas.neverFits(n, asked, what)).map(m -> "exceeded quota: " + m));
                if (never.isPresent()) {
                    for (var m : unit) {
                        dequeue(m);
                        table.finishLocked(m, ExitStatus.stopped(WorkloadPhase.FAILED, never.get()));
                    }
                    continue;
                }
            }
            boolean needsMachine = !demand.equals(ResourceRequest.NONE);
            if (needsMachine && machineFull) {
                markQuotaWait(unit, Optional.empty());
                continue;
            }
            if (needsMachine && !pool.fits(demand)) {
                // Over its quota, it would not start even on a free machine: it must not hold up the others.
                var why = ns.flatMap(n -> quotas.exceeded(n, asked, what));
                if (why.isPresent()) blocked.put(ns.get(), why.get());
                else machineFull = true;
                markQuotaWait(unit, why);
                continue;
            }
            var why = ns.isPresent() ? quotas.tryCharge(ns.get(), usages, what) : Optional.<String>empty();
            if (why.isPresent()) {
                blocked.put(ns.get(), why.get());
                markQuotaWait(unit, why);
                continue;
            }
            for (var m : unit) {
                dequeue(m);
                reserveLocked(m, admitted);
            }
        }
        return admitted;
    }

    /** Members of {@code gang} that were admitted already (after a restart, the queued rest joins them). */
    private int activeMembers(WorkloadSpec.Gang gang) {
        int n = 0;
        for (var w : table.workloads.values()) {
            boolean admittedAlready = w.starting || (w.record.phase() != WorkloadPhase.QUEUED && !w.record.phase().isTerminal());
            if (admittedAlready && w.spec.gang().filter(gang::equals).isPresent()) n++;
        }
        return n;
    }

    /** Says in each queued workload's state whether, and why, it waits for its namespace's quota. */
    private void markQuotaWait(List<LocalWorkload> unit, Optional<String> why) {
        for (var m : unit) {
            var s = m.record.state();
            if (s.quotaWait().equals(why)) continue;
            m.record = m.record.withState(new WorkloadState(s.id(), s.phase(), s.exitCode(),
                    why.map(w -> "waiting for quota: " + w).orElse(WAITING_FOR_RESOURCES), s.startedAt(), s.finishedAt(), s.gpus(), why));
        }
    }

    private void reserveLocked(LocalWorkload e, List<LocalWorkload> admitted) {
        e.gpus = pool.allocate(e.id(), e.spec.requests());
        e.starting = true;
        admitted.add(e);
    }

    static QuotaUsage usage(WorkloadSpec spec) {
        return QuotaUsage.ofPod(spec.requests().cpus(), spec.requests().memoryBytes(), spec.requests().gpuCount());
    }

    private static ResourceRequest plus(ResourceRequest a, ResourceRequest b) {
        return new ResourceRequest(a.cpus() + b.cpus(), a.memoryBytes() + b.memoryBytes(), a.gpuCount() + b.gpuCount());
    }
}
