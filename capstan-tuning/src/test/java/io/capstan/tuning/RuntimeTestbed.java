package io.capstan.tuning;

import io.capstan.backend.LocalBackend;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.ControllerRuntime;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LabelSelector;
import io.capstan.store.LeaderLease;
import io.capstan.store.ListQuery;
import io.capstan.store.Reconciler;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The experiment controller and the controller of the resources its trials create, in a real controller runtime on
 * a real H2 store and LocalBackend: for trials that are jobs or pipeline runs, end to end.
 */
final class RuntimeTestbed implements AutoCloseable {
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    final Database db;
    final JdbiResourceStore store;
    final LocalBackend backend;
    final ControllerRuntime runtime;
    final ResourceParser parser;
    private final String trialKind;

    /**
     * @param trialKind   the kind of resource the trials create, for lists and diagnostics
     * @param otherKinds  the kinds beside Katib's that the YAML may hold
     * @param controllers the reconcilers of those kinds, made from this testbed's store and backend
     */
    RuntimeTestbed(Path dir, String trialKind, List<ResourceKind> otherKinds, Function<RuntimeTestbed, List<Reconciler>> controllers) {
        this.trialKind = trialKind;
        var kinds = new ArrayList<>(Experiments.kinds());
        kinds.addAll(otherKinds);
        parser = new ResourceParser(ResourceKinds.of(kinds));
        db = TestDatabases.h2();
        store = TuningHarness.storeOf(db);
        backend = TuningHarness.backendIn(dir);
        var clock = Clock.systemUTC();
        runtime = new ControllerRuntime(store, LeaderLease.of(db, "controllers", clock), clock, Duration.ofSeconds(2), new SimpleMeterRegistry());
        controllers.apply(this).forEach(runtime::register);
        runtime.register(new ExperimentReconciler(store, backend, dir.resolve("tuning"), clock));
        runtime.start();
    }

    ResourceKey apply(String yaml) {
        return store.create(parser.parse("test.yaml", yaml).getFirst()).key();
    }

    Resource await(ResourceKey key, Predicate<Resource> until, String what) {
        var deadline = Instant.now().plus(TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            var now = store.find(key);
            if (now.isPresent() && until.test(now.get())) return now.get();
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError(key + " never " + what + "; status: " + store.find(key).map(Resource::status)
                + "\n" + trialKind + ": " + created(key.name()).stream().map(j -> j.metadata().name() + " " + j.status()).toList());
    }

    static boolean finished(Resource experiment) {
        var phase = experiment.status().phase();
        return phase.equals("Succeeded") || phase.equals("Failed");
    }

    List<Resource> trials(String experiment) {
        return list(Experiments.TRIAL, experiment);
    }

    /** The resources the experiment's trials created. */
    List<Resource> created(String experiment) {
        return list(trialKind, experiment);
    }

    private List<Resource> list(String kind, String experiment) {
        var selector = new LabelSelector(List.of(new LabelSelector.Requirement(Experiments.EXPERIMENT_LABEL, LabelSelector.Operator.IN, Set.of(experiment))));
        return store.list(new ListQuery(kind, Optional.of("default"), selector, ListQuery.MAX_LIMIT, Optional.empty())).items();
    }

    @Override
    public void close() {
        runtime.close();
        backend.shutdownAndKillAll(Duration.ofSeconds(5));
        db.close();
    }
}
