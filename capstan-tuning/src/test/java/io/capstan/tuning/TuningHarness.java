package io.capstan.tuning;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.LocalBackend;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/** A real store, a real LocalBackend and the reconciler, driven by hand as the controller runtime would drive it. */
final class TuningHarness implements AutoCloseable {
    final Database db;
    final JdbiResourceStore store;
    final LocalBackend backend;
    final ExperimentReconciler reconciler;
    final Path dir;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Experiments.kinds()));

    TuningHarness(Database db, Path dir, SearchCatalog catalog, String apiBase) {
        this(db, storeOf(db), backendIn(dir), dir, catalog, apiBase);
    }

    /** With a span per trial from {@code tracer}. */
    TuningHarness(Database db, Path dir, SearchCatalog catalog, io.opentelemetry.api.trace.Tracer tracer) {
        this.db = db;
        this.dir = dir;
        this.store = storeOf(db);
        this.backend = backendIn(dir);
        reconciler = new ExperimentReconciler(store, backend, dir.resolve("tuning"), Clock.systemUTC(), "", catalog,
                io.capstan.core.security.WorkloadCredentials.none(), tracer);
    }

    /** For tests that need the store and backend before the reconciler, as a server with an API does. */
    TuningHarness(Database db, JdbiResourceStore store, LocalBackend backend, Path dir, SearchCatalog catalog, String apiBase) {
        this.db = db;
        this.dir = dir;
        this.store = store;
        this.backend = backend;
        reconciler = new ExperimentReconciler(store, backend, dir.resolve("tuning"), Clock.systemUTC(), apiBase, catalog);
    }

    static JdbiResourceStore storeOf(Database db) {
        db.migrate("store");
        return new JdbiResourceStore(db, Clock.systemUTC());
    }

    static LocalBackend backendIn(Path dir) {
        return new LocalBackend(LocalBackend.Options.of(dir.resolve("workloads")).withGpuDetector(GpuDetector.none())
                .withKillGrace(Duration.ofSeconds(1)));
    }

    ResourceKey apply(String yaml) {
        return store.create(parser.parse("test.yaml", yaml).getFirst()).key();
    }

    /** Reconciles, honouring requeues, until the reconciler says done or {@code until} holds. */
    Resource reconcileUntil(ResourceKey key, Duration timeout, Predicate<Resource> until) {
        var deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            var result = reconciler.reconcile(key);
            var now = store.get(key);
            if (result.requeueAfter().isEmpty() || until.test(now)) return now;
            LockSupport.parkNanos(result.requeueAfter().get().toNanos());
        }
        throw new AssertionError("experiment " + key + " did not settle in " + timeout + "; status: " + store.get(key).status()
                + "\ntrials: " + trials(key).stream().map(t -> t.metadata().name() + " " + t.status()).toList());
    }

    Resource reconcileUntilDone(ResourceKey key) {
        return reconcileUntil(key, Duration.ofSeconds(90), r -> false);
    }

    List<Resource> trials(ResourceKey experiment) {
        var selector = new LabelSelector(List.of(new LabelSelector.Requirement(Experiments.EXPERIMENT_LABEL, LabelSelector.Operator.IN, Set.of(experiment.name()))));
        return store.list(new ListQuery(Experiments.TRIAL, Optional.of(experiment.namespace()), selector, ListQuery.MAX_LIMIT, Optional.empty()))
                .items().stream().sorted(Comparator.comparing((Resource t) -> t.metadata().name().length()).thenComparing(t -> t.metadata().name())).toList();
    }

    Resource trial(ResourceKey experiment, int index) {
        return store.get(new ResourceKey(Experiments.TRIAL, experiment.namespace(), experiment.name() + "-" + index));
    }

    /**
     * Stops as a killed server would, as far as the children can tell: the backend stops watching but leaves its
     * processes running, and the database connection pool goes away without anything being finished first.
     */
    void crash() {
        backend.close();
        db.close();
    }

    @Override
    public void close() {
        backend.shutdownAndKillAll(Duration.ofSeconds(5));
        db.close();
    }
}
