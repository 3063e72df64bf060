package io.capstan.store.bench;

import static io.capstan.store.testing.TestResources.aResource;

import io.capstan.core.ResourceKey;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.ResourceStore;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Apply-then-get throughput of {@link JdbiResourceStore} on embedded H2 (file database in a temporary folder) and,
 * when a JDBC URL is given, on PostgreSQL (in a throwaway schema). Each operation applies a resource with a changed
 * spec (a real write: new version, event row) and reads it back. Prints ops/s and the PostgreSQL/H2 ratio.
 *
 * <p>Usage: {@code StoreBench [operations] [jdbc:postgresql://...]}; run by {@code bench/store-bench.sh}.
 */
public final class StoreBench {
    private static final int THREADS = 4;

    private StoreBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        var pgUrl = args.length > 1 ? args[1] : "";
        System.out.printf("store bench: %d apply+get operations per run, after %d warm-up; %d cores; java %s%n",
                n, n / 2, Runtime.getRuntime().availableProcessors(), Runtime.version());
        var dir = Files.createTempDirectory("capstan-store-bench");
        Result h2;
        try (var db = TestDatabases.h2File(dir)) {
            h2 = run("H2 file", db, n);
        } finally {
            deleteTree(dir);
        }
        if (pgUrl.isEmpty()) {
            System.out.println("PostgreSQL: skipped (pass a JDBC URL as the second argument)");
            return;
        }
        Result pg;
        try (var db = TestDatabases.postgres(pgUrl)) {
            pg = run("PostgreSQL", db, n);
        }
        System.out.printf("ratio PG/H2: 1 thread %.2f, %d threads %.2f%n",
                pg.single() / h2.single(), THREADS, pg.concurrent() / h2.concurrent());
    }

    record Result(double single, double concurrent) {}

    private static Result run(String label, Database db, int n) throws Exception {
        db.migrate("store");
        var store = new JdbiResourceStore(db, Clock.systemUTC());
        loop(store, "warm", n / 2);
        long t0 = System.nanoTime();
        loop(store, "single", n);
        double single = n / seconds(t0);
        t0 = System.nanoTime();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<Future<?>>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                futures.add(exec.submit(() -> loop(store, "t" + id, n / THREADS)));
            }
            for (var f : futures) f.get(10, TimeUnit.MINUTES);
        }
        double concurrent = (n / THREADS) * THREADS / seconds(t0);
        System.out.printf("%-11s 1 thread: %8.0f ops/s   %d threads: %8.0f ops/s%n", label + ":", single, THREADS, concurrent);
        return new Result(single, concurrent);
    }

    private static Void loop(ResourceStore store, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            var name = prefix + "-" + (i % 100);
            store.apply(aResource("Job", "bench", name).withLabel("run", prefix).withSpecField("step", Integer.toString(i)).build());
            store.get(new ResourceKey("Job", "bench", name));
        }
        return null;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (var p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
