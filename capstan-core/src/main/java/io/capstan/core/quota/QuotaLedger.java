package io.capstan.core.quota;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Per-namespace quotas and what every holder (a workload, a gang member, a serving replica) takes from them. Every
 * component that admits work in a namespace charges it here, so that the backend's workloads and the in-process
 * serving replicas share one count. A namespace without a quota is unlimited, and its holders are still counted, so
 * that a quota set later sees them.
 *
 * <p>Thread-safe: every method is atomic under one lock, which is never held while calling out; change listeners
 * run on the thread that replaced the quotas, after the lock is released.
 */
public final class QuotaLedger {
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private Map<String, ResourceQuota> quotas = Map.of();
    private final Map<String, Charge> charges = new HashMap<>();
    private final Map<String, QuotaUsage> used = new HashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    private record Charge(String namespace, QuotaUsage usage) {
    }

    /** The quota of {@code namespace}, if it has one. */
    public Optional<ResourceQuota> find(String namespace) {
        lock.lock();
        try {
            return Optional.ofNullable(quotas.get(namespace));
        } finally {
            lock.unlock();
        }
    }

    /** Whether any namespace has a quota; admission can skip per-namespace accounting when none has. */
    public boolean isEmpty() {
        lock.lock();
        try {
            return quotas.isEmpty();
        } finally {
            lock.unlock();
        }
    }

    /** What {@code namespace}'s holders take now. */
    public QuotaUsage used(String namespace) {
        lock.lock();
        try {
            return used.getOrDefault(namespace, QuotaUsage.ZERO);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Replaces every namespace's quota (namespaces left out become unlimited) and then tells the listeners, so that
     * work waiting for quota is looked at again.
     */
    public void replaceQuotas(Map<String, ResourceQuota> next) {
        var copy = Map.copyOf(next);
        lock.lock();
        try {
            if (copy.equals(quotas)) return;
            quotas = copy;
        } finally {
            lock.unlock();
        }
        for (var l : listeners) l.run();
    }

    /** Called after every change of quotas; must return quickly. */
    public void onChange(Runnable listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Why {@code asked} could never fit {@code namespace}'s quota, even with nothing else running; empty when it could. */
    public Optional<String> neverFits(String namespace, QuotaUsage asked, String what) {
        return find(namespace).flatMap(q -> q.neverFits(asked, what));
    }

    /**
     * Charges every holder in {@code holders} to {@code namespace} if all of them fit its quota together, or none of
     * them; returns why not, naming the quota. A holder already charged is charged again with its new usage.
     */
    public Optional<String> tryCharge(String namespace, Map<String, QuotaUsage> holders, String what) {
        lock.lock();
        try {
            var quota = quotas.get(namespace);
            if (quota != null) {
                var asked = holders.values().stream().reduce(QuotaUsage.ZERO, QuotaUsage::plus);
                var base = used.getOrDefault(namespace, QuotaUsage.ZERO);
                for (var h : holders.keySet()) {
                    var old = charges.get(h);
                    if (old != null && old.namespace().equals(namespace)) base = base.minus(old.usage());
                }
                var why = quota.exceeded(base, asked, what);
                if (why.isPresent()) return why;
            }
            holders.forEach((h, u) -> chargeLocked(namespace, h, u));
            return Optional.empty();
        } finally {
            lock.unlock();
        }
    }

    /** Why {@code asked} does not fit beside what {@code namespace} uses now; charges nothing. */
    public Optional<String> exceeded(String namespace, QuotaUsage asked, String what) {
        lock.lock();
        try {
            var quota = quotas.get(namespace);
            return quota == null ? Optional.empty() : quota.exceeded(used.getOrDefault(namespace, QuotaUsage.ZERO), asked, what);
        } finally {
            lock.unlock();
        }
    }

    /** Charges {@code holder} whatever the quota says: for work that already runs, re-adopted after a restart. */
    public void charge(String namespace, String holder, QuotaUsage usage) {
        lock.lock();
        try {
            chargeLocked(namespace, holder, usage);
        } finally {
            lock.unlock();
        }
    }

    /** Gives back what {@code holder} took; nothing happens for a holder that holds nothing. */
    public void release(String holder) {
        lock.lock();
        try {
            var old = charges.remove(holder);
            if (old != null) subtractLocked(old);
        } finally {
            lock.unlock();
        }
    }

    private void chargeLocked(String namespace, String holder, QuotaUsage usage) {
        var old = charges.put(holder, new Charge(namespace, usage));
        if (old != null) subtractLocked(old);
        used.merge(namespace, usage, QuotaUsage::plus);
    }

    private void subtractLocked(Charge c) {
        var left = used.getOrDefault(c.namespace(), QuotaUsage.ZERO).minus(c.usage());
        if (left.equals(QuotaUsage.ZERO)) used.remove(c.namespace());
        else used.put(c.namespace(), left);
    }
}
