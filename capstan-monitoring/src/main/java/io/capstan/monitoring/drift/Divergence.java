package io.capstan.monitoring.drift;

/**
 * Distances between two binned distributions: PSI, Kullback–Leibler and Jensen–Shannon, as scipy and Evidently
 * compute them. PSI and KL take the log of each bin's ratio, so empty bins are first raised to {@link #EPSILON}
 * (Evidently's 0.0001, applied as {@code np.clip(p, ε, None)}, without renormalising); Jensen–Shannon needs no ε.
 */
public final class Divergence {
    /** The share an empty (or nearly empty) bin is given before a logarithm. */
    public static final double EPSILON = 1e-4;

    private Divergence() {
    }

    /** Population stability index Σ (c − r)·ln(c / r) over clipped shares; reference first. */
    public static double psi(double[] reference, double[] current) {
        double sum = 0;
        for (int i = 0; i < reference.length; i++) {
            double r = Math.max(reference[i], EPSILON);
            double c = Math.max(current[i], EPSILON);
            sum += (c - r) * Math.log(c / r);
        }
        return sum;
    }

    /** KL(reference ‖ current) in nats over clipped shares, renormalised as {@code scipy.stats.entropy} does. */
    public static double kullbackLeibler(double[] reference, double[] current) {
        double rs = 0;
        double cs = 0;
        for (int i = 0; i < reference.length; i++) {
            rs += Math.max(reference[i], EPSILON);
            cs += Math.max(current[i], EPSILON);
        }
        double sum = 0;
        for (int i = 0; i < reference.length; i++) {
            sum += relativeEntropy(Math.max(reference[i], EPSILON) / rs, Math.max(current[i], EPSILON) / cs);
        }
        return sum;
    }

    /** The Jensen–Shannon distance (the square root of the divergence), {@code scipy.spatial.distance.jensenshannon}, natural log. */
    public static double jensenShannon(double[] p, double[] q) {
        return jensenShannon(p, q, Math.E);
    }

    /** As {@link #jensenShannon(double[], double[])} with logarithms to {@code base}: base 2 bounds it by 1. */
    public static double jensenShannon(double[] p, double[] q, double base) {
        double ps = 0;
        double qs = 0;
        for (int i = 0; i < p.length; i++) {
            ps += p[i];
            qs += q[i];
        }
        double js = 0;
        for (int i = 0; i < p.length; i++) {
            double a = p[i] / ps;
            double b = q[i] / qs;
            double m = (a + b) / 2;
            js += relativeEntropy(a, m) + relativeEntropy(b, m);
        }
        if (base != Math.E) js /= Math.log(base);
        return Math.sqrt(Math.max(js, 0) / 2);
    }

    /** scipy's {@code rel_entr}: x·ln(x/y), 0 where x is 0. */
    private static double relativeEntropy(double x, double y) {
        if (x == 0 && y >= 0) return 0;
        if (x > 0 && y > 0) return x * Math.log(x / y);
        return Double.POSITIVE_INFINITY;
    }
}
