package io.capstan.tuning;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.LocalBackend;
import io.capstan.backend.WorkloadState;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.ControllerRuntime;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LeaderLease;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * A stand-in for the server, wired as CapstanServer wires the tuning module: an H2 file store, the LocalBackend whose
 * on-finish hook wakes the experiment through {@link ExperimentReconciler#findExperiment}, and the controller runtime.
 * Run in a child JVM by {@link KillNineTest}, which kills it with SIGKILL.
 *
 * <p>Arguments: the state folder, and an Experiment YAML file to create if it does not exist yet.
 */
public final class TuningServerProcess {
    private TuningServerProcess() {
    }

    public static void main(String[] args) throws Exception {
        var dir = Path.of(args[0]);
        var clock = Clock.systemUTC();
        var db = TestDatabases.h2File(dir.resolve("db"));
        db.migrate("store");
        var store = new JdbiResourceStore(db, clock);
        var workloadEnded = new AtomicReference<Consumer<WorkloadState>>(s -> { });
        var backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("workloads")).withGpuDetector(GpuDetector.none())
                .withOnFinish(s -> workloadEnded.get().accept(s)));
        var runtime = new ControllerRuntime(store, LeaderLease.of(db, "controllers", clock), clock, Duration.ofSeconds(2), new SimpleMeterRegistry());
        var experiments = new ExperimentReconciler(store, backend, dir.resolve("tuning"), clock);
        runtime.register(experiments);
        workloadEnded.set(s -> experiments.findExperiment(s.id()).ifPresent(runtime::enqueue));
        var parser = new ResourceParser(ResourceKinds.of(Experiments.kinds()));
        var experiment = parser.parse(args[1], Files.readString(Path.of(args[1]))).getFirst();
        if (store.find(experiment.key()).isEmpty()) store.create(experiment);
        runtime.start();
        System.out.println("tuning server started");
        // Killed by the test long before this; the bound only keeps an orphaned child from living on.
        new CountDownLatch(1).await(5, TimeUnit.MINUTES);
    }
}
