package io.capstan.training;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.LocalBackend;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.Reconciler;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * A real store (H2 or PostgreSQL), a real LocalBackend and a TrainingController, driven by hand: each test calls
 * {@link #runUntil} instead of starting the controller runtime, honouring the reconciler's requeues.
 */
final class Testbed implements AutoCloseable {
    static final Duration JOB_TIMEOUT = Duration.ofSeconds(240);

    final Path dir;
    final Database db;
    final JdbiResourceStore store;
    final LocalBackend backend;
    final TrainingController controller;
    final ResourceParser parser;

    private Testbed(Path dir, Database db, LocalBackend backend, MachineCapacity capacity, ModelLineage lineage,
                    java.util.Optional<io.capstan.artifacts.ArtifactStore> artifacts) {
        this.dir = dir;
        this.db = db;
        this.store = new JdbiResourceStore(db, Clock.systemUTC());
        this.backend = backend;
        var work = dir.resolve("training");
        this.controller = artifacts.map(a -> new TrainingController(store, backend, capacity, work, Clock.systemUTC(), lineage, a))
                .orElseGet(() -> new TrainingController(store, backend, capacity, work, Clock.systemUTC(), lineage));
        this.parser = new ResourceParser(ResourceKinds.of(TrainingKinds.all(store)));
    }

    /** On H2, with a span per job from {@code tracer} and a local artifact store. */
    static Testbed traced(Path dir, io.opentelemetry.api.trace.Tracer tracer) {
        var options = LocalBackend.Options.of(dir.resolve("workloads")).withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofSeconds(1));
        var backend = new LocalBackend(options);
        var locator = io.capstan.artifacts.ArtifactLocator.of(new io.capstan.artifacts.LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC()));
        return new Testbed(dir, migrated(TestDatabases.h2()), backend, store -> new TrainingController(store, backend,
                MachineCapacity.of(options, backend.gpus()), dir.resolve("training"), Clock.systemUTC(), ModelLineage.NONE, locator, tracer));
    }

    private Testbed(Path dir, Database db, LocalBackend backend, java.util.function.Function<JdbiResourceStore, TrainingController> controller) {
        this.dir = dir;
        this.db = db;
        this.store = new JdbiResourceStore(db, Clock.systemUTC());
        this.backend = backend;
        this.controller = controller.apply(store);
        this.parser = new ResourceParser(ResourceKinds.of(TrainingKinds.all(store)));
    }

    static Testbed h2(Path dir) {
        return open(dir, migrated(TestDatabases.h2()), GpuDetector.none(), ModelLineage.NONE);
    }

    /** On H2, with the backend charging workloads to {@code quotas}. */
    static Testbed h2(Path dir, io.capstan.core.quota.QuotaLedger quotas) {
        var options = LocalBackend.Options.of(dir.resolve("workloads")).withGpuDetector(GpuDetector.none())
                .withKillGrace(Duration.ofSeconds(1)).withQuotas(quotas);
        var backend = new LocalBackend(options);
        return new Testbed(dir, migrated(TestDatabases.h2()), backend, MachineCapacity.of(options, backend.gpus()), ModelLineage.NONE,
                java.util.Optional.empty());
    }

    static Testbed open(Path dir, Database db, GpuDetector gpus, ModelLineage lineage) {
        return open(dir, db, gpus, lineage, java.util.Optional.empty());
    }

    static Testbed open(Path dir, Database db, GpuDetector gpus, ModelLineage lineage, java.util.Optional<io.capstan.artifacts.ArtifactStore> artifacts) {
        var options = LocalBackend.Options.of(dir.resolve("workloads")).withGpuDetector(gpus).withKillGrace(Duration.ofSeconds(1));
        var backend = new LocalBackend(options);
        return new Testbed(dir, db, backend, MachineCapacity.of(options, backend.gpus()), lineage, artifacts);
    }

    static Database migrated(Database db) {
        db.migrate("store");
        return db;
    }

    ResourceKey apply(String yaml) {
        return store.create(parser.parse("test.yaml", yaml).getFirst()).key();
    }

    Resource get(ResourceKey key) {
        return store.get(key);
    }

    Reconciler reconciler(ResourceKey key) {
        return controller.reconciler(key.kind());
    }

    /** Reconciles as the runtime would until {@code done} holds for the stored job. */
    Resource runUntil(ResourceKey key, Duration timeout, String what, Predicate<Resource> done) {
        var reconciler = reconciler(key);
        var deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            var result = reconciler.reconcile(key);
            var job = store.find(key);
            if (job.isPresent() && done.test(job.get())) return job.get();
            if (job.isEmpty() && done.test(null)) return null;
            var wait = result.requeueAfter().orElse(Duration.ofMillis(200));
            LockSupport.parkNanos(Math.min(wait.toNanos(), Duration.ofMillis(500).toNanos()));
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; status: " + store.find(key).map(Resource::status));
    }

    Resource runToEnd(ResourceKey key) {
        return runUntil(key, JOB_TIMEOUT, key.name() + " to finish", j -> j.status().phase().equals("Succeeded") || j.status().phase().equals("Failed"));
    }

    /** The combined log of a workload, for assertion messages. */
    String log(String workloadId) {
        return String.join("\n", backend.tail(workloadId, 200).stream().map(l -> l.text()).toList());
    }

    String logs(Resource job) {
        var sb = new StringBuilder();
        for (var m : TrainingWorkloads.members(job)) {
            sb.append("--- ").append(m.replicaType()).append(' ').append(m.index()).append('\n');
            backend.find(m.workloadId()).ifPresent(s -> sb.append(log(m.workloadId())).append('\n'));
        }
        return sb.toString();
    }

    @Override
    public void close() {
        backend.shutdownAndKillAll(Duration.ofSeconds(5));
        db.close();
    }

    static List<String> lines(String... lines) {
        return List.of(lines);
    }
}
