package io.capstan.monitoring.drift;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The multivariate two-sample test of Gretton, Borgwardt, Rasch, Schölkopf and Smola, "A Kernel Two-Sample Test"
 * (JMLR 13, 2012): the unbiased estimate MMD²_u (their eq. 3) with the Gaussian kernel exp(−‖x−y‖²/2σ²), σ the
 * median distance between distinct pooled points (their section 8 heuristic), and a p-value from a permutation test
 * of the pooled sample (section 5): the share of random relabellings whose MMD²_u is at least the observed one,
 * counting the observed labelling itself, so that p is never 0.
 */
public final class MaximumMeanDiscrepancy {
    /** MMD²_u, the bandwidth used and the permutation p-value. */
    public record Result(double statistic, double sigma, double pValue, int permutations) {
    }

    private MaximumMeanDiscrepancy() {
    }

    /** Rows of equal width; {@code random} drives the permutations, so a seeded one gives the same p-value each time. */
    public static Result test(double[][] x, double[][] y, int permutations, RandomGenerator random) {
        if (x.length < 2 || y.length < 2) throw new IllegalArgumentException("MMD needs at least two rows in each sample");
        int m = x.length;
        int total = m + y.length;
        var pooled = new double[total][];
        System.arraycopy(x, 0, pooled, 0, m);
        System.arraycopy(y, 0, pooled, m, y.length);
        var d2 = new double[total][total];
        var distances = new double[total * (total - 1) / 2];
        int at = 0;
        for (int i = 0; i < total; i++) {
            for (int j = i + 1; j < total; j++) {
                double s = 0;
                for (int c = 0; c < pooled[i].length; c++) {
                    double diff = pooled[i][c] - pooled[j][c];
                    s += diff * diff;
                }
                d2[i][j] = s;
                d2[j][i] = s;
                distances[at++] = Math.sqrt(s);
            }
        }
        double sigma = median(distances);
        if (sigma == 0) sigma = 1;
        var k = new double[total][total];
        for (int i = 0; i < total; i++) {
            for (int j = 0; j < total; j++) k[i][j] = Math.exp(-d2[i][j] / (2 * sigma * sigma));
        }
        var order = new int[total];
        for (int i = 0; i < total; i++) order[i] = i;
        double observed = unbiased(k, order, m);
        int atLeast = 1;
        for (int p = 0; p < permutations; p++) {
            for (int i = total - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            if (unbiased(k, order, m) >= observed) atLeast++;
        }
        return new Result(observed, sigma, atLeast / (double) (permutations + 1), permutations);
    }

    /** MMD²_u with the first {@code m} of {@code order} as one sample and the rest as the other. */
    static double unbiased(double[][] k, int[] order, int m) {
        int n = order.length - m;
        double xx = 0;
        double yy = 0;
        double xy = 0;
        for (int a = 0; a < order.length; a++) {
            var row = k[order[a]];
            for (int b = 0; b < order.length; b++) {
                if (a == b) continue;
                double v = row[order[b]];
                if (a < m && b < m) xx += v;
                else if (a >= m && b >= m) yy += v;
                else if (a < m) xy += v;
            }
        }
        return xx / ((double) m * (m - 1)) + yy / ((double) n * (n - 1)) - 2 * xy / ((double) m * n);
    }

    private static double median(double[] values) {
        var sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
