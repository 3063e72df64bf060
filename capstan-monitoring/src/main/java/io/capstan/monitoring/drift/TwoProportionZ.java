package io.capstan.monitoring.drift;

import org.apache.commons.math3.distribution.NormalDistribution;

/**
 * The pooled two-proportion Z test, two-sided, as Evidently's {@code z_stat_test}: the share of one value in the
 * reference against its share in the current window.
 */
public final class TwoProportionZ {
    private static final NormalDistribution NORMAL = new NormalDistribution(null, 0, 1);

    private TwoProportionZ() {
    }

    /** Z and its two-sided p-value 2·(1 − Φ(|z|)); both shares equal and 0 or 1 give z = 0, p = 1. */
    public static double[] test(long referenceHits, long referenceTotal, long currentHits, long currentTotal) {
        double p1 = referenceHits / (double) referenceTotal;
        double p2 = currentHits / (double) currentTotal;
        double pooled = (p1 * referenceTotal + p2 * currentTotal) / (referenceTotal + currentTotal);
        double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / referenceTotal + 1.0 / currentTotal));
        if (se == 0) return new double[] {0, 1};
        double z = (p1 - p2) / se;
        return new double[] {z, 2 * NORMAL.cumulativeProbability(-Math.abs(z))};
    }
}
