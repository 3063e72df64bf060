package io.capstan.monitoring.drift;

import org.apache.commons.math3.stat.inference.ChiSquareTest;

/**
 * Pearson's chi-square goodness of fit of the current counts against the counts the reference's proportions
 * expect ({@code scipy.stats.chisquare(f_obs, f_exp)}, as Evidently calls it); categories the reference never
 * saw are left out, since nothing is expected of them.
 */
public final class ChiSquare {
    private static final ChiSquareTest TEST = new ChiSquareTest();

    private ChiSquare() {
    }

    /** Statistic and p-value (k − 1 degrees of freedom); both arrays per category, {@code expected} positive. */
    public static double[] goodnessOfFit(double[] expected, long[] observed) {
        return new double[] {TEST.chiSquare(expected, observed), TEST.chiSquareTest(expected, observed)};
    }

    /** The current counts against the reference's proportions scaled to the current total. */
    public static double[] test(long[] referenceCounts, long[] currentCounts) {
        long refTotal = 0;
        long curTotal = 0;
        for (long c : referenceCounts) refTotal += c;
        for (long c : currentCounts) curTotal += c;
        int kept = 0;
        for (long c : referenceCounts) if (c > 0) kept++;
        if (kept < 2) return new double[] {0, 1};
        var expected = new double[kept];
        var observed = new long[kept];
        int k = 0;
        for (int i = 0; i < referenceCounts.length; i++) {
            if (referenceCounts[i] == 0) continue;
            expected[k] = referenceCounts[i] / (double) refTotal * curTotal;
            observed[k++] = currentCounts[i];
        }
        return goodnessOfFit(expected, observed);
    }
}
