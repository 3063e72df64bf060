package io.capstan.search.bench;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchAlgorithms;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Best value found on Branin and Hartmann6 by Capstan's algorithms and by Optuna's samplers (run through
 * {@code hpo_peers.py} in the same run), as a markdown table, followed by the goal checks.
 *
 * <p>Options: {@code --trials 50,100 --seeds 10 --functions branin,hartmann6
 * --methods random,tpe,multivariate-tpe,bayesianoptimization,cmaes --peers optuna:tpe,optuna:cmaes,optuna:random
 * --peer-script PATH --python /usr/bin/python3 --settings name=value,...}; {@code --peers none} skips the peers, and
 * {@code --settings} adds algorithm settings to every Capstan run.
 */
public final class HpoBench {
    private static final Pattern BEST = Pattern.compile("\"best\":\\s*([-0-9.eE+]+)");
    private static final Pattern SECONDS = Pattern.compile("\"sec\":\\s*([-0-9.eE+]+)");

    /** One table row: a method on a function for one trial count, over all seeds. */
    record Row(String method, TestFunctions function, int trials, double[] best, double[] seconds, double[] cpuSeconds,
               double msPerSuggestion) {
        double medianGap() {
            return median(best) - function.optimum();
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        int[] trialCounts = Arrays.stream(options.getOrDefault("trials", "50,100").split(",")).mapToInt(Integer::parseInt).toArray();
        int seeds = Integer.parseInt(options.getOrDefault("seeds", "10"));
        List<TestFunctions> functions = Arrays.stream(options.getOrDefault("functions", "branin,hartmann6").split(","))
                .map(id -> TestFunctions.valueOf(id.toUpperCase())).toList();
        List<String> methods = List.of(options.getOrDefault("methods", "random,tpe,multivariate-tpe,bayesianoptimization,cmaes").split(","));
        String peersOption = options.getOrDefault("peers", "optuna:tpe,optuna:cmaes,optuna:random");
        List<String> peers = peersOption.equals("none") ? List.of() : List.of(peersOption.split(","));
        Map<String, String> extraSettings = new LinkedHashMap<>();
        for (String pair : options.getOrDefault("settings", "").split(",")) {
            if (pair.contains("=")) extraSettings.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
        }
        String script = options.getOrDefault("peer-script", "/work/shared/bench/hpo_peers.py");
        String python = options.getOrDefault("python", "/usr/bin/python3");

        List<Row> rows = new ArrayList<>();
        for (TestFunctions function : functions) {
            for (int trials : trialCounts) {
                for (String method : methods) rows.add(runCapstan(method, extraSettings, function, trials, seeds));
                for (String peer : peers) rows.add(runPeer(python, script, peer, function, trials, seeds));
            }
        }
        System.out.println();
        System.out.println("| method | function (optimum) | trials | seeds | median best | q25 | q75 | median gap to optimum "
                + "| median s/run | median CPU s/run | ms/suggestion at 100 obs |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        for (Row r : rows) {
            System.out.printf("| %s | %s (%s) | %d | %d | %.5f | %.5f | %.5f | %.5f | %.2f | %s | %s |%n", r.method, r.function.id(),
                    r.function.optimum(), r.trials, r.best.length, median(r.best), quantile(r.best, 0.25), quantile(r.best, 0.75),
                    r.medianGap(), median(r.seconds), r.cpuSeconds.length == 0 ? "" : "%.2f".formatted(median(r.cpuSeconds)),
                    Double.isNaN(r.msPerSuggestion) ? "" : "%.1f".formatted(r.msPerSuggestion));
        }
        System.out.println();
        goals(rows);
    }

    private static Row runCapstan(String method, Map<String, String> extraSettings, TestFunctions function, int trials, int seeds) {
        double[] best = new double[seeds];
        double[] seconds = new double[seeds];
        double[] cpuSeconds = new double[seeds];
        double msPerSuggestion = Double.NaN;
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int seed = 0; seed < seeds; seed++) {
            Map<String, String> settings = new LinkedHashMap<>(extraSettings);
            settings.put("random_state", Integer.toString(seed));
            SearchAlgorithm algorithm = SearchAlgorithms.create(method, settings, function.space());
            long start = System.nanoTime();
            long cpuStart = threads.getCurrentThreadCpuTime();
            List<Trial> history = new ArrayList<>();
            double bestSoFar = Double.POSITIVE_INFINITY;
            for (int i = 0; i < trials; i++) {
                Suggestion s = algorithm.suggest(function.space(), history, 1).get(0);
                double loss = function.evaluate(s.assignment());
                bestSoFar = Math.min(bestSoFar, loss);
                history.add(new Trial("t" + i, s.assignment(), TrialState.SUCCEEDED, OptionalDouble.of(loss), List.of(), s.labels()));
            }
            seconds[seed] = (System.nanoTime() - start) / 1e9;
            cpuSeconds[seed] = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
            best[seed] = bestSoFar;
            if (seed == 0 && trials >= 100) msPerSuggestion = timeSuggestion(algorithm, function, history.subList(0, 100));
            System.err.printf("%s %s n=%d seed=%d best=%.6f %.2fs%n", method, function.id(), trials, seed, bestSoFar, seconds[seed]);
        }
        return new Row(method, function, trials, best, seconds, cpuSeconds, msPerSuggestion);
    }

    private static double timeSuggestion(SearchAlgorithm algorithm, TestFunctions function, List<Trial> history) {
        int repeats = 5;
        long start = System.nanoTime();
        for (int i = 0; i < repeats; i++) algorithm.suggest(function.space(), history, 1);
        return (System.nanoTime() - start) / 1e6 / repeats;
    }

    private static Row runPeer(String python, String script, String peer, TestFunctions function, int trials, int seeds)
            throws IOException, InterruptedException {
        Process process = new ProcessBuilder(python, script, peer, function.id(), Integer.toString(trials), "0", Integer.toString(seeds))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Double> best = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                Matcher b = BEST.matcher(line);
                Matcher s = SECONDS.matcher(line);
                if (b.find() && s.find()) {
                    best.add(Double.parseDouble(b.group(1)));
                    seconds.add(Double.parseDouble(s.group(1)));
                    System.err.println(line);
                }
            }
        }
        if (process.waitFor() != 0 || best.isEmpty()) throw new IllegalStateException("peer " + peer + " failed on " + function.id());
        return new Row(peer, function, trials, best.stream().mapToDouble(Double::doubleValue).toArray(),
                seconds.stream().mapToDouble(Double::doubleValue).toArray(), new double[0], Double.NaN);
    }

    private static void goals(List<Row> rows) {
        // scikit-optimize's GP on this machine (shared/references/hpo-peers.md): seconds per run and gap reached.
        check(rows, "bayesianoptimization", TestFunctions.BRANIN, 50, 0.001, 7.65 / 5);
        check(rows, "bayesianoptimization", TestFunctions.HARTMANN6, 100, 0.01, 31.87 / 5);
        for (TestFunctions f : TestFunctions.values()) {
            for (int n : new int[] {50, 100}) {
                var tpe = find(rows, "tpe", f, n);
                var optuna = find(rows, "optuna:tpe", f, n);
                if (tpe == null || optuna == null) continue;
                boolean pass = tpe.medianGap() <= optuna.medianGap();
                System.out.printf("%s tpe %s %d trials: median gap %.5f vs optuna:tpe %.5f%n", pass ? "PASS" : "FAIL", f.id(), n,
                        tpe.medianGap(), optuna.medianGap());
            }
        }
    }

    private static void check(List<Row> rows, String method, TestFunctions f, int n, double maxGap, double maxSeconds) {
        Row r = find(rows, method, f, n);
        if (r == null) return;
        boolean pass = r.medianGap() <= maxGap && median(r.seconds) <= maxSeconds;
        System.out.printf("%s %s %s %d trials: median gap %.5f (goal <= %s), %.2f s/run, %.2f CPU s/run (goal <= %.2f s)%n",
                pass ? "PASS" : "FAIL", method, f.id(), n, r.medianGap(), maxGap, median(r.seconds), median(r.cpuSeconds), maxSeconds);
    }

    private static Row find(List<Row> rows, String method, TestFunctions f, int n) {
        return rows.stream().filter(r -> r.method.equals(method) && r.function == f && r.trials == n).findFirst().orElse(null);
    }

    static double median(double[] values) {
        return quantile(values, 0.5);
    }

    /** Linear-interpolation quantile, as numpy computes it by default. */
    static double quantile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double position = q * (sorted.length - 1);
        int low = (int) Math.floor(position);
        int high = Math.min(sorted.length - 1, low + 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) throw new IllegalArgumentException("expected --option value, got " + args[i]);
            options.put(args[i].substring(2), args[i + 1]);
        }
        return options;
    }
}
