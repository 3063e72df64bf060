package io.capstan.monitoring.drift;

import java.util.Arrays;

/** The first Wasserstein distance between two samples, and Evidently's normalised form of it. */
public final class Wasserstein {
    /** The smallest standard deviation divided by, as Evidently's {@code wasserstein_distance_norm}. */
    static final double MIN_STD = 0.001;

    private Wasserstein() {
    }

    /** {@code scipy.stats.wasserstein_distance(u, v)}: the area between the two empirical CDFs. */
    public static double distance(double[] u, double[] v) {
        var us = u.clone();
        var vs = v.clone();
        Arrays.sort(us);
        Arrays.sort(vs);
        var all = new double[us.length + vs.length];
        System.arraycopy(us, 0, all, 0, us.length);
        System.arraycopy(vs, 0, all, us.length, vs.length);
        Arrays.sort(all);
        double sum = 0;
        int i = 0;
        int j = 0;
        for (int k = 0; k < all.length - 1; k++) {
            double x = all[k];
            while (i < us.length && us[i] <= x) i++;
            while (j < vs.length && vs[j] <= x) j++;
            sum += Math.abs(i / (double) us.length - j / (double) vs.length) * (all[k + 1] - x);
        }
        return sum;
    }

    /** The distance over the reference's population standard deviation (at least 0.001): Evidently's default above 1000 rows. */
    public static double normalised(double[] reference, double[] current) {
        return distance(reference, current) / Math.max(populationStd(reference), MIN_STD);
    }

    static double populationStd(double[] values) {
        double mean = 0;
        for (double v : values) mean += v;
        mean /= values.length;
        double ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        return Math.sqrt(ss / values.length);
    }
}
