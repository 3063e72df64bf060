package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.apache.commons.math3.stat.inference.MannWhitneyUTest;

/**
 * Judges one analysis step: the canary's absolute error rate and p99 latency, and, against the baseline cohort, a
 * two-sided Mann–Whitney U test on per-request latency with the Hodges–Lehmann shift (the median of every
 * canary−baseline difference, so a shift is reported in milliseconds and fails only when it is both significant and
 * larger than allowed), and a test of the prediction distributions: two-sample Kolmogorov–Smirnov for numeric outputs,
 * chi-square on the class counts for the others.
 */
final class CanaryJudge {
    enum Outcome { PASS, FAIL, INCONCLUSIVE }

    /** The step's verdict; {@code critical} when a critical check failed. {@code checks}: each check's statistics. */
    record Verdict(Outcome outcome, boolean critical, String message, List<ObjectNode> checks) {
    }

    private CanaryJudge() {
    }

    static Verdict judge(RolloutSpec spec, CanaryCohorts.Samples canary, CanaryCohorts.Samples baseline) {
        return judge(spec, canary, baseline, null);
    }

    /** @param reference the training reference's columns for the inputDrift check; null to compare with the baseline's inputs */
    static Verdict judge(RolloutSpec spec, CanaryCohorts.Samples canary, CanaryCohorts.Samples baseline, double[][] reference) {
        if (canary.requests() < spec.minSamples() || baseline.requests() < spec.minSamples()) {
            return new Verdict(Outcome.INCONCLUSIVE, false, "too few samples: canary " + canary.requests() + ", baseline "
                    + baseline.requests() + ", at least " + spec.minSamples() + " each needed", List.of());
        }
        if (spec.checks().stream().anyMatch(c -> c.kind() == RolloutSpec.Kind.AGREEMENT) && canary.compared() < spec.minSamples()) {
            return new Verdict(Outcome.INCONCLUSIVE, false, "too few mirrored requests for the agreement check: " + canary.compared()
                    + ", at least " + spec.minSamples() + " needed", List.of());
        }
        var checks = new ArrayList<ObjectNode>();
        var failed = new ArrayList<String>();
        boolean critical = false;
        for (var check : spec.checks()) {
            var node = JsonNodeFactory.instance.objectNode().put("name", check.name()).put("critical", check.critical());
            boolean pass = switch (check.kind()) {
                case ERROR_RATE -> errorRate(check, canary, node);
                case P99_LATENCY -> p99(check, canary, node);
                case LATENCY_SHIFT -> latencyShift(check, canary, baseline, node);
                case PREDICTIONS -> predictions(check, canary, baseline, node);
                case INPUT_DRIFT -> inputDrift(check, canary, baseline, reference, node);
                case AGREEMENT -> agreement(check, canary, node);
            };
            node.put("result", pass ? "Pass" : "Fail");
            checks.add(node);
            if (!pass) {
                failed.add(check.name() + " (" + node.path("summary").asText() + ")");
                critical |= check.critical();
            }
        }
        return failed.isEmpty()
                ? new Verdict(Outcome.PASS, false, "all checks passed", checks)
                : new Verdict(Outcome.FAIL, critical, (critical ? "critical check failed: " : "failed: ") + String.join("; ", failed), checks);
    }

    private static boolean errorRate(RolloutSpec.Check check, CanaryCohorts.Samples canary, ObjectNode node) {
        double rate = (double) canary.errors() / canary.requests();
        node.put("errors", canary.errors()).put("requests", canary.requests()).put("errorRate", rate).put("max", check.threshold());
        node.put("summary", String.format("error rate %.4f, max %.4f", rate, check.threshold()));
        return rate <= check.threshold();
    }

    private static boolean p99(RolloutSpec.Check check, CanaryCohorts.Samples canary, ObjectNode node) {
        double p99 = new Percentile(99).evaluate(canary.latencyMs());
        node.put("p99Ms", p99).put("maxMs", check.threshold());
        node.put("summary", String.format("p99 %.2f ms, max %.2f ms", p99, check.threshold()));
        return p99 <= check.threshold();
    }

    private static boolean latencyShift(RolloutSpec.Check check, CanaryCohorts.Samples canary, CanaryCohorts.Samples baseline,
                                        ObjectNode node) {
        var x = canary.latencyMs();
        var y = baseline.latencyMs();
        double p = new MannWhitneyUTest().mannWhitneyUTest(x, y);
        double u = new MannWhitneyUTest().mannWhitneyU(x, y);
        double shift = hodgesLehmann(x, y);
        node.put("test", "Mann-Whitney U").put("u", u).put("pValue", p).put("alpha", check.alpha())
                .put("hodgesLehmannShiftMs", shift).put("maxShiftMs", check.threshold())
                .put("canaryMedianMs", median(x)).put("baselineMedianMs", median(y));
        node.put("summary", String.format("latency shift %.2f ms (p=%.3g), max %.2f ms", shift, p, check.threshold()));
        return !(p < check.alpha() && shift > check.threshold());
    }

    /** The median of every pairwise difference x[i] − y[j]. */
    static double hodgesLehmann(double[] x, double[] y) {
        var d = new double[x.length * y.length];
        int k = 0;
        for (double a : x) for (double b : y) d[k++] = a - b;
        return median(d);
    }

    private static double median(double[] values) {
        var sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static boolean predictions(RolloutSpec.Check check, CanaryCohorts.Samples canary, CanaryCohorts.Samples baseline,
                                       ObjectNode node) {
        var a = canary.predictions();
        var b = baseline.predictions();
        node.put("canaryValues", a.size()).put("baselineValues", b.size()).put("alpha", check.alpha());
        if (a.isEmpty() || b.isEmpty()) {
            node.put("summary", "no predictions to compare");
            return true;
        }
        boolean numeric = a.getFirst() instanceof Double && b.getFirst() instanceof Double;
        double p;
        if (numeric) {
            var x = a.stream().mapToDouble(v -> (Double) v).toArray();
            var y = b.stream().mapToDouble(v -> (Double) v).toArray();
            var ks = new KolmogorovSmirnovTest();
            double d = ks.kolmogorovSmirnovStatistic(x, y);
            p = ks.kolmogorovSmirnovTest(x, y, false); // P(D >= d), as scipy's ks_2samp; the two-argument form gives P(D > d)
            node.put("test", "Kolmogorov-Smirnov").put("statistic", d).put("pValue", p);
        } else {
            var counts = new TreeMap<String, long[]>();
            a.forEach(v -> counts.computeIfAbsent(String.valueOf(v), c -> new long[2])[0]++);
            b.forEach(v -> counts.computeIfAbsent(String.valueOf(v), c -> new long[2])[1]++);
            var classes = node.putObject("classes");
            counts.forEach((c, n) -> classes.putObject(c).put("canary", n[0]).put("baseline", n[1]));
            if (counts.size() < 2) {
                p = 1; // both answered the one same class throughout
                node.put("test", "chi-square").put("statistic", 0.0).put("pValue", p);
            } else {
                var o1 = counts.values().stream().mapToLong(n -> n[0]).toArray();
                var o2 = counts.values().stream().mapToLong(n -> n[1]).toArray();
                var chi = new ChiSquareTest();
                double statistic = chi.chiSquareDataSetsComparison(o1, o2);
                p = chi.chiSquareTestDataSetsComparison(o1, o2);
                node.put("test", "chi-square").put("statistic", statistic).put("degreesOfFreedom", counts.size() - 1).put("pValue", p);
            }
        }
        node.put("summary", String.format("%s p=%.3g, alpha %.3g", node.path("test").asText(), p, check.alpha()));
        return p >= check.alpha();
    }

    /**
     * The canary's inputs against the reference (or the baseline cohort's inputs): a two-sample Kolmogorov–Smirnov test
     * per input column, failing when any p-value is under alpha divided by the number of columns (Bonferroni).
     */
    private static boolean inputDrift(RolloutSpec.Check check, CanaryCohorts.Samples canary, CanaryCohorts.Samples baseline,
                                      double[][] reference, ObjectNode node) {
        var against = reference != null ? reference : baseline.inputs();
        node.put("against", reference != null ? "reference" : "baseline").put("alpha", check.alpha()).put("test", "Kolmogorov-Smirnov");
        var x = canary.inputs();
        if (x.length == 0 || x[0].length < 2 || against.length != x.length || against[0].length < 2) {
            node.put("summary", "no numeric inputs of one width to compare (canary " + x.length + " columns, "
                    + node.path("against").asText() + " " + against.length + ")");
            return true;
        }
        double corrected = check.alpha() / x.length;
        var ks = new KolmogorovSmirnovTest();
        var columns = node.putArray("columns");
        double least = 1;
        int drifted = 0;
        for (int c = 0; c < x.length; c++) {
            double d = ks.kolmogorovSmirnovStatistic(x[c], against[c]);
            double p = ks.kolmogorovSmirnovTest(x[c], against[c], false);
            least = Math.min(least, p);
            if (p < corrected) drifted++;
            columns.addObject().put("column", c).put("statistic", d).put("pValue", p).put("drifted", p < corrected);
        }
        node.put("canaryRows", x[0].length).put("referenceRows", against[0].length).put("driftedColumns", drifted).put("minPValue", least);
        node.put("summary", String.format("%d of %d input columns drifted from the %s (least p=%.3g, alpha %.3g per column)", drifted,
                x.length, node.path("against").asText(), least, corrected));
        return drifted == 0;
    }

    /** The share of mirrored baseline requests the canary answered alike, against the lowest allowed. */
    private static boolean agreement(RolloutSpec.Check check, CanaryCohorts.Samples canary, ObjectNode node) {
        double rate = canary.compared() == 0 ? 1 : (double) canary.agreed() / canary.compared();
        node.put("compared", canary.compared()).put("agreed", canary.agreed()).put("agreement", rate).put("min", check.threshold())
                .put("mirrorPercent", (int) check.share());
        node.put("summary", String.format("agreement %.4f on %d identical requests, min %.4f", rate, canary.compared(), check.threshold()));
        return rate >= check.threshold();
    }
}
