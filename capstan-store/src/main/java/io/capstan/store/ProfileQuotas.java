package io.capstan.store;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.core.quota.ResourceQuota;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link QuotaLedger}'s quotas equal to the Kubeflow Profiles in the store: a Profile's {@code metadata.name}
 * is the namespace it governs (in whatever namespace the Profile itself is stored) and its
 * {@code spec.resourceQuotaSpec} that namespace's quota. A namespace without a Profile, or whose Profile has no
 * {@code resourceQuotaSpec}, is unlimited. A Profile whose quota does not parse keeps the namespace's last good quota,
 * and the error is logged. Changes reach the ledger within {@link #WAIT} of being stored, through the store's change
 * feed, and the ledger's listeners (the backend) let waiting work start.
 *
 * <p>Thread-safe; {@link #start()} runs one virtual thread until {@link #close()}.
 */
public final class ProfileQuotas implements AutoCloseable {
    public static final String KIND = "Profile";
    static final Duration WAIT = Duration.ofSeconds(1);
    private static final Logger log = LoggerFactory.getLogger(ProfileQuotas.class);

    private final ResourceStore store;
    private final QuotaLedger ledger;
    private final CountDownLatch closed = new CountDownLatch(1);
    // Confined to the watch thread (and to start(), before it runs).
    private final Map<String, ResourceQuota> lastGood = new HashMap<>();
    private volatile Thread loop;

    public ProfileQuotas(ResourceStore store, QuotaLedger ledger) {
        this.store = Objects.requireNonNull(store, "store");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /** Loads every Profile's quota before it returns, then follows changes in the background. */
    public ProfileQuotas start() {
        long from = store.currentVersion();
        reload();
        loop = Thread.ofVirtual().name("capstan-profile-quotas").start(() -> follow(from));
        return this;
    }

    /** Reads every Profile now and replaces the ledger's quotas with theirs. */
    void reload() {
        var next = new HashMap<String, ResourceQuota>();
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(KIND, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            for (var profile : page.items()) quotaOf(profile).ifPresent(q -> next.put(q.namespace(), q));
            token = page.continueToken();
        } while (token.isPresent());
        lastGood.keySet().retainAll(next.keySet());
        lastGood.putAll(next);
        ledger.replaceQuotas(next);
    }

    private Optional<ResourceQuota> quotaOf(Resource profile) {
        var namespace = profile.metadata().name();
        var spec = profile.spec().get("resourceQuotaSpec");
        if (spec == null || spec.isNull()) return Optional.empty();
        try {
            var quota = ResourceQuota.parse(namespace, spec, "spec.resourceQuotaSpec");
            return quota.hard().isEmpty() ? Optional.empty() : Optional.of(quota);
        } catch (InvalidSpecException e) {
            log.atWarn().addKeyValue("profile", namespace).addKeyValue("error", e.getMessage())
                    .log("the Profile's resourceQuotaSpec is invalid; its namespace keeps its last valid quota");
            return Optional.ofNullable(lastGood.get(namespace));
        }
    }

    private void follow(long from) {
        long after = from;
        boolean stale = false;
        while (closed.getCount() > 0) {
            try {
                if (stale) {
                    // A change may have been missed while the store failed: re-read all, watching from before.
                    after = store.currentVersion();
                    reload();
                    stale = false;
                }
                var changes = store.changedKeys(WatchQuery.ofKind(KIND), after, 1000, WAIT);
                if (changes.isEmpty()) continue;
                after = changes.getLast().resourceVersion();
                reload();
            } catch (RuntimeException e) {
                log.atWarn().setCause(e).log("reading Profiles failed; retrying in a second");
                stale = true;
                if (await(Duration.ofSeconds(1))) return;
            }
        }
    }

    private boolean await(Duration d) {
        try {
            return closed.await(d.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    /** Stops following changes, waiting up to a few seconds for the watch thread. */
    @Override
    public void close() {
        closed.countDown();
        var t = loop;
        if (t == null) return;
        try {
            t.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
