package io.capstan.monitoring.drift;

import java.util.Arrays;
import java.util.OptionalDouble;
import java.util.TreeSet;

/**
 * The univariate drift tests, under Evidently's names and default thresholds. Tests with a p-value (KS,
 * chi-square, Z) drift below their threshold; distances drift at or above theirs.
 */
public enum DriftTest {
    KS("ks", 0.05), CHI_SQUARE("chisquare", 0.05), Z("z", 0.05), WASSERSTEIN("wasserstein", 0.1),
    JENSEN_SHANNON("jensenshannon", 0.1), PSI("psi", 0.1), KL("kl_div", 0.1);

    /** Evidently's line between small and large references. */
    public static final int SMALL_REFERENCE_ROWS = 1000;
    /** Up to this many distinct values, a numeric feature is tested as categories. */
    public static final int FEW_VALUES = 5;

    private final String wire;
    private final double defaultThreshold;

    DriftTest(String wire, double defaultThreshold) {
        this.wire = wire;
        this.defaultThreshold = defaultThreshold;
    }

    public String wireName() {
        return wire;
    }

    public double defaultThreshold() {
        return defaultThreshold;
    }

    public static java.util.Optional<DriftTest> ofWireName(String name) {
        for (var t : values()) if (t.wire.equals(name)) return java.util.Optional.of(t);
        return java.util.Optional.empty();
    }

    /**
     * Evidently's default ({@code get_default_stattest}): up to 1000 reference rows, KS for numbers with more than
     * five distinct values, else chi-square, or Z for two values; above 1000, Wasserstein (normalised) for numbers
     * with more than five distinct values, else Jensen–Shannon.
     */
    public static DriftTest defaultFor(double[] reference, double[] current, FeatureType type) {
        int distinct = distinct(reference, current).size();
        boolean categories = type == FeatureType.CATEGORICAL || distinct <= FEW_VALUES;
        if (reference.length <= SMALL_REFERENCE_ROWS) {
            if (!categories) return KS;
            return distinct > 2 ? CHI_SQUARE : Z;
        }
        return categories ? JENSEN_SHANNON : WASSERSTEIN;
    }

    /** Runs this test; {@code type} and the number of distinct values decide between categories and Sturges bins. */
    public Statistic run(double[] reference, double[] current, FeatureType type, double threshold) {
        if (reference.length == 0 || current.length == 0) throw new IllegalArgumentException("both samples need at least one value");
        return switch (this) {
            case KS -> {
                var r = KolmogorovSmirnov.test(reference, current);
                yield new Statistic(this, r.statistic(), OptionalDouble.of(r.pValue()), threshold);
            }
            case CHI_SQUARE -> {
                var values = distinct(reference, current).stream().mapToDouble(Double::doubleValue).toArray();
                var r = ChiSquare.test(countsOf(reference, values), countsOf(current, values));
                yield new Statistic(this, r[0], OptionalDouble.of(r[1]), threshold);
            }
            case Z -> {
                double first = distinct(reference, current).first();
                var r = TwoProportionZ.test(hits(reference, first), reference.length, hits(current, first), current.length);
                yield new Statistic(this, r[0], OptionalDouble.of(r[1]), threshold);
            }
            case WASSERSTEIN -> new Statistic(this, Wasserstein.normalised(reference, current), OptionalDouble.empty(), threshold);
            case JENSEN_SHANNON, PSI, KL -> {
                var shares = shares(reference, current, type);
                double d = switch (this) {
                    case JENSEN_SHANNON -> Divergence.jensenShannon(shares[0], shares[1]);
                    case PSI -> Divergence.psi(shares[0], shares[1]);
                    default -> Divergence.kullbackLeibler(shares[0], shares[1]);
                };
                yield new Statistic(this, d, OptionalDouble.empty(), threshold);
            }
        };
    }

    /** Reference and current shares: per category for labels and few values, else per Sturges bin of the pooled values. */
    static double[][] shares(double[] reference, double[] current, FeatureType type) {
        var values = distinct(reference, current);
        if (type == FeatureType.CATEGORICAL || values.size() <= FEW_VALUES) {
            var keys = values.stream().mapToDouble(Double::doubleValue).toArray();
            return new double[][] {Histogram.proportions(countsOf(reference, keys)), Histogram.proportions(countsOf(current, keys))};
        }
        var pooled = Arrays.copyOf(reference, reference.length + current.length);
        System.arraycopy(current, 0, pooled, reference.length, current.length);
        var edges = Histogram.sturgesEdges(pooled);
        return new double[][] {Histogram.proportions(Histogram.counts(reference, edges)), Histogram.proportions(Histogram.counts(current, edges))};
    }

    private static TreeSet<Double> distinct(double[] a, double[] b) {
        var out = new TreeSet<Double>();
        for (double v : a) out.add(v);
        for (double v : b) out.add(v);
        return out;
    }

    private static long[] countsOf(double[] values, double[] keys) {
        var out = new long[keys.length];
        for (double v : values) {
            int i = Arrays.binarySearch(keys, v);
            if (i >= 0) out[i]++;
        }
        return out;
    }

    private static long hits(double[] values, double key) {
        long n = 0;
        for (double v : values) if (v == key) n++;
        return n;
    }
}
