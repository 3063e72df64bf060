package io.capstan.training.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.LocalBackend;
import io.capstan.core.Json;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.ControllerRuntime;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LeaderLease;
import io.capstan.training.MachineCapacity;
import io.capstan.training.ModelLineage;
import io.capstan.training.TrainingController;
import io.capstan.training.TrainingKinds;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Time from submission until all 4 ranks have joined the process group: a PyTorchJob (one node, nprocPerNode 4)
 * through the store, the controller runtime and the LocalBackend, against {@code torchrun --nproc_per_node=4} on
 * the same script, alternating, in the same run. Each rank records when {@code init_process_group} returned.
 *
 * <p>Arguments: PYTHON SCRIPT WORKDIR [ROUNDS]. Run by {@code bench/rendezvous-bench.sh}.
 */
public final class RendezvousBench {
    private RendezvousBench() {
    }

    public static void main(String[] args) throws Exception {
        var python = args[0];
        var script = Path.of(args[1]);
        var work = Path.of(args[2]);
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        var db = Database.open("jdbc:h2:" + work.resolve("db").toAbsolutePath() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH", "", "");
        db.migrate("store");
        var clock = Clock.systemUTC();
        var store = new JdbiResourceStore(db, clock);
        var controllerRef = new java.util.concurrent.atomic.AtomicReference<ControllerRuntime>();
        var trainingRef = new java.util.concurrent.atomic.AtomicReference<TrainingController>();
        var options = LocalBackend.Options.of(work.resolve("workloads")).withOnFinish(s -> {
            var training = trainingRef.get();
            var runtime = controllerRef.get();
            if (training != null && runtime != null) training.findJob(s.id()).ifPresent(runtime::enqueue);
        });
        var backend = new LocalBackend(options);
        var training = new TrainingController(store, backend, MachineCapacity.of(options, backend.gpus()), work.resolve("training"), clock, ModelLineage.NONE);
        var runtime = new ControllerRuntime(store, LeaderLease.of(db, "controllers", clock), clock, Duration.ofMinutes(10), new SimpleMeterRegistry());
        training.reconcilers().forEach(runtime::register);
        trainingRef.set(training);
        controllerRef.set(runtime);
        runtime.start();
        var parser = new ResourceParser(ResourceKinds.of(TrainingKinds.all(store)));
        var capstan = new ArrayList<Double>();
        var torchrun = new ArrayList<Double>();
        try {
            for (int round = 0; round < rounds; round++) {
                torchrun.add(torchrun(python, script, work.resolve("torchrun-" + round)));
                capstan.add(capstan(store, parser, python, script, work.resolve("capstan-" + round), round));
                System.out.printf(Locale.ROOT, "round %d: torchrun %.2f s, capstan %.2f s%n", round + 1, torchrun.getLast(), capstan.getLast());
            }
        } finally {
            runtime.close();
            backend.shutdownAndKillAll(Duration.ofSeconds(5));
            db.close();
        }
        double t = median(torchrun);
        double c = median(capstan);
        System.out.printf(Locale.ROOT, "rendezvous of 4 ranks, median of %d: torchrun %.2f s, capstan %.2f s, ratio %.2fx (goal <= 1.2x)%n", rounds, t, c, c / t);
    }

    private static double capstan(JdbiResourceStore store, ResourceParser parser, String python, Path script, Path out, int round) throws Exception {
        var yaml = """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: bench-%d}
                spec:
                  nprocPerNode: 4
                  runPolicy: {backoffLimit: 0}
                  pytorchReplicaSpecs:
                    Master: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: local, command: [%s, %s, %s]}]}}}
                """.formatted(round, python, script, out);
        double submitted = System.currentTimeMillis() / 1000.0;
        var key = store.create(parser.parse("bench.yaml", yaml).getFirst()).key();
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (true) {
            var phase = store.get(key).status().phase();
            if (phase.equals("Succeeded")) break;
            if (phase.equals("Failed") || System.nanoTime() > deadline) throw new IllegalStateException("bench job ended " + phase + ": " + store.get(key).status());
            Thread.sleep(100);
        }
        return lastJoin(out) - submitted;
    }

    private static double torchrun(String python, Path script, Path out) throws Exception {
        int port;
        try (var s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        double started = System.currentTimeMillis() / 1000.0;
        // Debian's torch 1.13 torchrun crashes on Python 3.11 with the default --redirects/--tee of 0.
        var p = new ProcessBuilder(python, "-m", "torch.distributed.run", "--redirects", "2", "--tee", "1", "--nproc_per_node=4",
                "--master_port=" + port, script.toString(), out.toString()).redirectErrorStream(true)
                .redirectOutput(out.resolveSibling(out.getFileName() + ".log").toFile()).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IllegalStateException("torchrun failed; see " + out + ".log");
        return lastJoin(out) - started;
    }

    private static double lastJoin(Path out) throws IOException {
        double last = 0;
        for (int rank = 0; rank < 4; rank++) {
            JsonNode r = Json.json().readTree(Files.readString(out.resolve("rank-" + rank + ".json")));
            last = Math.max(last, r.path("joined").asDouble());
        }
        return last;
    }

    private static double median(List<Double> values) {
        var sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
