package io.capstan.monitoring.drift;

import java.util.Arrays;

/** Counts of values in bins, with numpy's edges and counting rules, so that binned tests match scipy's. */
public final class Histogram {
    private Histogram() {
    }

    /** numpy's {@code np.histogram_bin_edges(values, bins="sturges")}: ⌈range / (range / (log2 n + 1))⌉ equal bins. */
    public static double[] sturgesEdges(double[] values) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        if (values.length == 0) {
            lo = 0;
            hi = 1;
        }
        if (lo == hi) {
            lo -= 0.5;
            hi += 0.5;
        }
        double width = (hi - lo) / (Math.log(values.length) / Math.log(2) + 1.0);
        int bins = width > 0 ? (int) Math.ceil((hi - lo) / width) : 1;
        return linspace(lo, hi, bins + 1);
    }

    /** numpy's {@code np.linspace(lo, hi, count)}: i·step + lo, the last edge exactly {@code hi}. */
    public static double[] linspace(double lo, double hi, int count) {
        var out = new double[count];
        double step = (hi - lo) / (count - 1);
        for (int i = 0; i < count; i++) out[i] = i * step + lo;
        out[count - 1] = hi;
        return out;
    }

    /** {@code np.histogram(values, edges)}: bins closed on the left, the last one on both sides; values outside are not counted. */
    public static long[] counts(double[] values, double[] edges) {
        var out = new long[edges.length - 1];
        double last = edges[edges.length - 1];
        for (double v : values) {
            if (v < edges[0] || v > last || Double.isNaN(v)) continue;
            int i;
            if (v == last) {
                i = out.length - 1;
            } else {
                int at = Arrays.binarySearch(edges, v);
                // on an edge: the bin starting there (the first of equal edges' successors); between: the one below
                if (at >= 0) {
                    while (at + 1 < edges.length && edges[at + 1] == v) at++;
                    i = at;
                } else {
                    i = -at - 2;
                }
            }
            out[Math.min(i, out.length - 1)]++;
        }
        return out;
    }

    /** Each count over the total. */
    public static double[] proportions(long[] counts) {
        long total = 0;
        for (long c : counts) total += c;
        var out = new double[counts.length];
        for (int i = 0; i < counts.length; i++) out[i] = total == 0 ? 0 : counts[i] / (double) total;
        return out;
    }
}
