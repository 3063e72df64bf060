package io.capstan.security;

import io.capstan.core.Resource;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.capstan.store.WatchQuery;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Kubeflow's access model over the resource store. In a namespace that a {@code Profile} created, its
 * {@code spec.owner} is admin and each {@code RoleBinding} there grants its ClusterRole ({@code kubeflow-admin},
 * {@code -edit}, {@code -view}) to its User subjects, the highest grant winning. A namespace without a Profile
 * (such as {@code default}) grants nothing, and so is the server admin's alone. A workload's token holds no role
 * (the routes that accept one check its scope themselves), except a notebook's, which edits its own namespace.
 *
 * <p>Every request asks, so the answer comes from an in-memory snapshot of all Profiles and RoleBindings. The
 * snapshot is rebuilt when the store's change feed reports a change to either kind (a write on another replica
 * shows within the feed's latency), and at once when {@link #refresh()} is called after a write on this one.
 * Thread-safe.
 */
public final class ProfileAccessPolicy implements AccessPolicy, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ProfileAccessPolicy.class.getName());
    private static final Duration WATCH_WAIT = Duration.ofSeconds(10);

    /** Who holds what in one Profile's namespace. */
    private record Grants(String owner, Map<String, Role> roles) {
    }

    private final ResourceStore store;
    private final Object reloading = new Object();
    private final List<Thread> watchers = new ArrayList<>();
    private volatile Map<String, Grants> byNamespace = Map.of();
    private volatile boolean closed;

    private ProfileAccessPolicy(ResourceStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /** Loads the snapshot and starts following the change feed of Profiles and RoleBindings. */
    public static ProfileAccessPolicy start(ResourceStore store) {
        var policy = new ProfileAccessPolicy(store);
        long from = store.currentVersion();
        policy.refresh();
        for (var kind : List.of(TenancyKinds.PROFILE, TenancyKinds.ROLE_BINDING)) {
            policy.watchers.add(Thread.ofVirtual().name("access-watch-" + kind).start(() -> policy.follow(kind, from)));
        }
        return policy;
    }

    @Override
    public Optional<Role> roleIn(Caller caller, String namespace) {
        if (caller.isServerAdmin()) return Optional.of(Role.ADMIN);
        // A notebook's token is its namespace's editor, as Kubeflow's default-editor ServiceAccount that notebooks run as.
        if (caller.workload().filter(w -> w.purpose().equals(io.capstan.core.security.WorkloadScope.NOTEBOOK)
                && w.namespace().equals(namespace)).isPresent()) return Optional.of(Role.EDIT);
        if (caller.kind() != Caller.Kind.USER) return Optional.empty();
        var grants = byNamespace.get(namespace);
        if (grants == null) return Optional.empty();
        if (grants.owner().equals(caller.user())) return Optional.of(Role.ADMIN);
        return Optional.ofNullable(grants.roles().get(caller.user()));
    }

    /** Rebuilds the snapshot from the store now: after this replica wrote a Profile or a RoleBinding. */
    public void refresh() {
        synchronized (reloading) {
            var profiles = all(TenancyKinds.PROFILE);
            var bindings = all(TenancyKinds.ROLE_BINDING);
            var next = new HashMap<String, Grants>();
            for (var p : profiles) {
                next.put(p.metadata().namespace(), new Grants(TenancyKinds.owner(p), new HashMap<>()));
            }
            for (var b : bindings) {
                var grants = next.get(b.metadata().namespace());
                if (grants == null) continue;
                TenancyKinds.grant(b).ifPresent(g -> g.users().forEach(u -> grants.roles().merge(u, g.role(),
                        (a, c) -> a.includes(c) ? a : c)));
            }
            next.replaceAll((ns, g) -> new Grants(g.owner(), Map.copyOf(g.roles())));
            byNamespace = Map.copyOf(next);
        }
    }

    private List<Resource> all(String kind) {
        var out = new ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(kind, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            out.addAll(page.items());
            token = page.continueToken();
        } while (token.isPresent());
        return out;
    }

    private void follow(String kind, long from) {
        long after = from;
        var query = WatchQuery.ofKind(kind);
        while (!closed) {
            try {
                var changes = store.changedKeys(query, after, 1000, WATCH_WAIT);
                if (changes.isEmpty()) continue;
                after = changes.getLast().resourceVersion();
                refresh();
            } catch (RuntimeException e) {
                if (closed) return;
                // The feed may have been compacted past our position, or the database may be away: start afresh.
                LOG.log(Level.WARNING, "following " + kind + " changes failed; reloading access grants", e);
                sleepQuietly();
                try {
                    after = store.currentVersion();
                    refresh();
                } catch (RuntimeException again) {
                    LOG.log(Level.DEBUG, "reloading access grants failed again", again);
                }
            }
        }
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        watchers.forEach(Thread::interrupt);
    }
}
