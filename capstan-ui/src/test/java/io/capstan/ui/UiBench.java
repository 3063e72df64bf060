package io.capstan.ui;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The UI's page budget: 10k runs and one 2000-node run in a real store (H2 in a folder, as embedded mode), pages
 * fetched over HTTP on loopback, so each figure is the server's time plus a loopback round trip. Run by
 * {@code bench/ui-bench.sh}; {@code -Dcapstan.bench.ui.runs=N} and {@code -Dcapstan.bench.ui.nodes=N} change the sizes.
 */
public final class UiBench {
    private UiBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = Integer.getInteger("capstan.bench.ui.runs", 10_000);
        int nodes = Integer.getInteger("capstan.bench.ui.nodes", 2000);
        var dir = Files.createTempDirectory("capstan-ui-bench");
        try (var h = new UiHarness(dir)) {
            long t0 = System.nanoTime();
            var tiny = RunPagesTest.tinyPipeline();
            for (int i = 0; i < runs; i++) {
                var tasks = Json.json().createObjectNode();
                var m = tasks.putObject("root/eval").put("state", "SUCCEEDED").putObject("outputs").putObject("artifacts").putArray("metrics").addObject();
                m.putObject("type").put("schemaTitle", "system.Metrics");
                m.putObject("metadata").put("accuracy", (i * 7919 % runs) / (double) runs).put("loss", (i % 97) / 97.0);
                h.run("run-" + i, tiny, Json.json().createObjectNode().put("seed", i).put("kind", i % 2 == 0 ? "even" : "odd"),
                        i % 10 == 0 ? "Failed" : "Succeeded", tasks);
            }
            var big = bigPipeline(nodes);
            var bigTasks = Json.json().createObjectNode();
            for (int i = 0; i < nodes; i++) bigTasks.putObject("root/t" + i).put("state", i % 50 == 0 ? "RUNNING" : "SUCCEEDED");
            System.out.printf(Locale.ROOT, "stored %d runs in %.1f s%n", runs, (System.nanoTime() - t0) / 1e9);

            // The index loads in the background (503 until it has); wait for it, then warm the JIT on the list page.
            long w0 = System.nanoTime();
            while (h.get("/runs").status() == 503) Thread.sleep(100);
            System.out.printf(Locale.ROOT, "the run index loaded within %.1f s of the first request%n", (System.nanoTime() - w0) / 1e9);
            check(h, "/runs");
            for (int i = 0; i < 30; i++) h.get("/runs?sort=metric:accuracy");

            // The big run appears once the index is loaded: its layout starts in the background when it is created.
            var dag = Dag.of(big);
            long l0 = System.nanoTime();
            h.run("big", big, Json.json().createObjectNode(), "Succeeded", bigTasks);
            var page = h.get("/runs/big");
            double pageMs = (System.nanoTime() - l0) / 1e6;
            boolean placeholder = page.body().contains("hx-trigger=\"load\"");
            while (!h.ui.context().layouts().isCached(dag)) Thread.sleep(5);
            double aheadMs = (System.nanoTime() - l0) / 1e6;
            var cpu = java.lang.management.ManagementFactory.getThreadMXBean();
            var uncached = new ArrayList<Double>();
            var uncachedCpu = new ArrayList<Double>();
            for (int i = 0; i < 5; i++) {
                long s = System.nanoTime();
                long c = cpu.getCurrentThreadCpuTime();
                DagLayout.compute(dag);
                uncached.add((System.nanoTime() - s) / 1e6);
                uncachedCpu.add((cpu.getCurrentThreadCpuTime() - c) / 1e6);
            }
            System.out.println();
            System.out.println("| page | median ms | p95 ms | budget |");
            System.out.println("|---|---|---|---|");
            row(h, "list, newest first (" + runs + " runs, 50 a page)", "/runs", 100);
            row(h, "list, sorted by a metric, metric column", "/runs?sort=metric:accuracy&cols=accuracy,loss", 100);
            row(h, "list, parameter + metric filter, page 20", "/runs?param=kind%3Dodd&metric=accuracy%3E0.2&page=20", 100);
            row(h, "run detail, " + nodes + " nodes, layout cached", "/runs/big", 300);
            row(h, "node side panel", "/runs/big?node=t" + nodes / 2, 300);
            System.out.printf(Locale.ROOT, "| run created, then its page at once (%s), %d nodes, first time | %.0f | | 2000 |%n",
                    placeholder ? "graph placeholder: laid out in the background" : "graph inline", nodes, pageMs);
            System.out.printf(Locale.ROOT, "| run created → its layout ready in the background (cold JIT), %d nodes | %.0f | | 2000 |%n", nodes, aheadMs);
            System.out.printf(Locale.ROOT, "| layout not cached, %d nodes (ELK alone, warm), wall | %.0f | %.0f | 2000 |%n", nodes, median(uncached), p95(uncached));
            System.out.printf(Locale.ROOT, "| layout not cached, %d nodes (ELK alone, warm), CPU time of its thread | %.0f | %.0f | 2000 |%n", nodes, median(uncachedCpu), p95(uncachedCpu));
            System.out.printf(Locale.ROOT, "(load average while measuring: %.1f on %d cores)%n", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(),
                    Runtime.getRuntime().availableProcessors());
        }
    }

    private static void check(UiHarness h, String path) {
        var r = h.get(path);
        if (r.status() != 200) throw new IllegalStateException(path + " answered " + r.status() + ": " + r.body());
    }

    private static void row(UiHarness h, String label, String path, int budgetMs) {
        check(h, path);
        for (int i = 0; i < 10; i++) h.get(path);
        var times = new ArrayList<Double>();
        for (int i = 0; i < 50; i++) {
            long s = System.nanoTime();
            var r = h.get(path);
            times.add((System.nanoTime() - s) / 1e6);
            if (r.status() != 200) throw new IllegalStateException(path + " answered " + r.status());
        }
        System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %d |%n", label, median(times), p95(times), budgetMs);
    }

    /** {@code nodes} tasks in layers of 50; each task depends on two of the layer before. */
    static ObjectNode bigPipeline(int nodes) {
        var ir = Json.json().createObjectNode();
        ir.putObject("pipelineInfo").put("name", "big");
        var tasks = ir.putObject("root").putObject("dag").putObject("tasks");
        var random = new Random(7);
        int width = 50;
        for (int i = 0; i < nodes; i++) {
            var t = tasks.putObject("t" + i);
            t.putObject("componentRef").put("name", "comp-step");
            if (i >= width) {
                int layerStart = (i / width - 1) * width;
                var deps = t.putArray("dependentTasks");
                deps.add("t" + (layerStart + random.nextInt(width)));
                deps.add("t" + (layerStart + random.nextInt(width)));
            }
        }
        return ir;
    }

    private static double median(List<Double> xs) {
        var a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }

    private static double p95(List<Double> xs) {
        var a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[Math.min(a.length - 1, (int) Math.ceil(a.length * 0.95) - 1)];
    }

}
