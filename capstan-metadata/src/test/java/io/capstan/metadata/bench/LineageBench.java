package io.capstan.metadata.bench;

import io.capstan.metadata.ArtifactType;
import io.capstan.metadata.ContextType;
import io.capstan.metadata.ExecutionType;
import io.capstan.metadata.LineageDirection;
import io.capstan.metadata.LineageQuery;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.Database;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Lineage-subgraph latency on a 100k-node graph: 2,500 pipeline-like runs of 20 steps, each step reading 1 to 3
 * of the few artifacts written just before it in its run (fan-in and fan-out) and writing one artifact; the first
 * step of a run reads the last artifact of the previous run, so runs chain 50 deep. Every node is linked to its
 * run's context. Loads with JDBI batches, then times {@link MetadataStore#lineage} (walk plus node, event and
 * context fetch) from random start artifacts. Usage: {@code LineageBench [jdbc:postgresql://...]}.
 */
public final class LineageBench {
    /** 2,500 runs (100k nodes); {@code -Dcapstan.bench.lineage.runs=N} for a smaller graph, as bench/lineage-bench.sh's quick mode. */
    private static final int RUNS = Integer.getInteger("capstan.bench.lineage.runs", 2_500);
    private static final int STEPS = 20;
    private static final int CHAIN = 50;
    private static final int QUERIES = 50;
    private static final int WARMUP = 20;
    private static final long SEED = 42;

    private LineageBench() {
    }

    public static void main(String[] args) throws Exception {
        var dir = Files.createTempDirectory("lineage-bench");
        try {
            run("H2 (file)", "jdbc:h2:file:" + dir.resolve("md") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
        } finally {
            deleteTree(dir);
        }
        if (args.length > 0 && !args[0].isBlank()) {
            var schema = "md_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
            var url = args[0];
            Jdbi.create(url).useHandle(h -> h.execute("CREATE SCHEMA " + schema));
            try {
                run("PostgreSQL", url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema);
            } finally {
                Jdbi.create(url).useHandle(h -> h.execute("DROP SCHEMA " + schema + " CASCADE"));
            }
        }
    }

    private static void run(String label, String url) {
        try (var db = Database.open(url, "", "")) {
            db.migrate("metadata");
            var store = new MetadataStore(db, Clock.systemUTC());
            long datasetType = store.putType(ArtifactType.of("Dataset", Map.of())).id();
            long stepType = store.putType(ExecutionType.of("Step", Map.of())).id();
            long runType = store.putType(ContextType.of("PipelineRun", Map.of())).id();

            long t0 = System.nanoTime();
            var counts = db.jdbi().inTransaction(h -> load(h, datasetType, stepType, runType));
            if (db.dialect() == Database.Dialect.POSTGRESQL) db.jdbi().useHandle(h -> h.execute("ANALYZE"));
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s: loaded %,d artifacts + %,d executions (%,d nodes), %,d events, %,d contexts in %.1f s%n",
                    label, counts[0], counts[1], counts[0] + counts[1], counts[2], RUNS, loadSeconds);

            var rnd = new Random(SEED);
            for (int i = 0; i < WARMUP; i++) {
                store.lineage(LineageQuery.fromArtifacts(Set.of(1L + rnd.nextInt(RUNS * STEPS)), LineageDirection.BOTH, 20));
            }
            System.out.printf("%-11s %5s %10s %10s %10s %12s%n", "direction", "hops", "median ms", "p95 ms", "max ms", "mean nodes");
            for (int hops : new int[] {5, 20}) {
                for (var direction : LineageDirection.values()) {
                    double[] ms = new double[QUERIES];
                    long nodes = 0;
                    for (int i = 0; i < QUERIES; i++) {
                        long start = 1L + rnd.nextInt(RUNS * STEPS);
                        long q0 = System.nanoTime();
                        var sub = store.lineage(LineageQuery.fromArtifacts(Set.of(start), direction, hops));
                        ms[i] = (System.nanoTime() - q0) / 1e6;
                        nodes += sub.artifacts().size() + sub.executions().size();
                    }
                    Arrays.sort(ms);
                    System.out.printf("%-11s %5d %10.2f %10.2f %10.2f %12.1f%n", direction, hops, ms[QUERIES / 2],
                            ms[(int) Math.ceil(QUERIES * 0.95) - 1], ms[QUERIES - 1], nodes / (double) QUERIES);
                }
            }
        }
    }

    /** Inserts the graph with explicit ids (artifact and execution ids 1..RUNS*STEPS); returns the row counts. */
    private static long[] load(Handle h, long datasetType, long stepType, long runType) {
        var rnd = new Random(SEED);
        var now = Instant.parse("2025-01-01T00:00:00Z").atOffset(ZoneOffset.UTC);
        var artifacts = h.prepareBatch("""
                INSERT INTO md_artifact (id, type_id, uri, state, create_time, update_time)
                VALUES (:id, :type, :uri, 'LIVE', :now, :now)""");
        var executions = h.prepareBatch("""
                INSERT INTO md_execution (id, type_id, last_known_state, create_time, update_time)
                VALUES (:id, :type, 'COMPLETE', :now, :now)""");
        var contexts = h.prepareBatch("""
                INSERT INTO md_context (id, type_id, name, create_time, update_time) VALUES (:id, :type, :name, :now, :now)""");
        var events = h.prepareBatch("""
                INSERT INTO md_event (artifact_id, execution_id, type, path, event_time)
                VALUES (:artifact, :execution, :type, '[]', :now)""");
        var attributions = h.prepareBatch("INSERT INTO md_attribution (context_id, artifact_id) VALUES (:context, :id)");
        var associations = h.prepareBatch("INSERT INTO md_association (context_id, execution_id) VALUES (:context, :id)");
        long eventCount = 0;
        for (int r = 0; r < RUNS; r++) {
            long context = r + 1;
            contexts.bind("id", context).bind("type", runType).bind("name", "run-" + r).bind("now", now).add();
            for (int s = 0; s < STEPS; s++) {
                long id = (long) r * STEPS + s + 1; // execution s writes artifact s of its run; both share this id
                executions.bind("id", id).bind("type", stepType).bind("now", now).add();
                artifacts.bind("id", id).bind("type", datasetType).bind("uri", "cas://run-" + r + "/" + s).bind("now", now).add();
                attributions.bind("context", context).bind("id", id).add();
                associations.bind("context", context).bind("id", id).add();
                events.bind("artifact", id).bind("execution", id).bind("type", "OUTPUT").bind("now", now).add();
                eventCount++;
                List<Long> inputs = new ArrayList<>();
                if (s == 0) {
                    if (r % CHAIN != 0) inputs.add(id - 1); // the previous run's last artifact
                } else {
                    int fanIn = 1 + rnd.nextInt(3);
                    for (int k = 0; k < fanIn; k++) {
                        long input = id - 1 - rnd.nextInt(Math.min(s, 5));
                        if (!inputs.contains(input)) inputs.add(input);
                    }
                }
                for (long input : inputs) {
                    events.bind("artifact", input).bind("execution", id).bind("type", "INPUT").bind("now", now).add();
                    eventCount++;
                }
            }
            if (r % 100 == 99) {
                for (var batch : List.of(contexts, executions, artifacts, attributions, associations, events)) {
                    if (batch.size() > 0) batch.execute();
                }
            }
        }
        for (var batch : List.of(contexts, executions, artifacts, attributions, associations, events)) {
            if (batch.size() > 0) batch.execute();
        }
        return new long[] {(long) RUNS * STEPS, (long) RUNS * STEPS, eventCount};
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (var paths = Files.walk(dir)) {
            for (var p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
