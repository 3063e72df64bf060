package io.capstan.monitoring.drift;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Evidently's default test choice, drift decisions, and the MMD permutation test's behaviour. */
class DriftTestSelectionTest {
    static double[] uniform(int n, double shift, long seed) {
        var r = new SplittableRandom(seed);
        return IntStream.range(0, n).mapToDouble(i -> r.nextDouble() + shift).toArray();
    }

    static double[] labels(int n, int categories, long seed) {
        var r = new SplittableRandom(seed);
        return IntStream.range(0, n).mapToDouble(i -> r.nextInt(categories)).toArray();
    }

    @Test
    void smallReferencesGetKsChiSquareOrZ() {
        assertThat(DriftTest.defaultFor(uniform(1000, 0, 1), uniform(50, 0, 2), FeatureType.NUMERIC)).isEqualTo(DriftTest.KS);
        assertThat(DriftTest.defaultFor(labels(1000, 4, 1), labels(50, 4, 2), FeatureType.NUMERIC)).isEqualTo(DriftTest.CHI_SQUARE);
        assertThat(DriftTest.defaultFor(labels(500, 9, 1), labels(50, 9, 2), FeatureType.CATEGORICAL)).isEqualTo(DriftTest.CHI_SQUARE);
        assertThat(DriftTest.defaultFor(labels(500, 2, 1), labels(50, 2, 2), FeatureType.CATEGORICAL)).isEqualTo(DriftTest.Z);
    }

    @Test
    void largeReferencesGetWassersteinOrJensenShannon() {
        assertThat(DriftTest.defaultFor(uniform(1001, 0, 1), uniform(50, 0, 2), FeatureType.NUMERIC)).isEqualTo(DriftTest.WASSERSTEIN);
        assertThat(DriftTest.defaultFor(labels(1001, 3, 1), labels(50, 3, 2), FeatureType.NUMERIC)).isEqualTo(DriftTest.JENSEN_SHANNON);
        assertThat(DriftTest.defaultFor(labels(5000, 40, 1), labels(50, 40, 2), FeatureType.CATEGORICAL)).isEqualTo(DriftTest.JENSEN_SHANNON);
    }

    @Test
    void pValueTestsDriftBelowTheirThresholdAndDistancesAtOrAbove() {
        var same = DriftTest.KS.run(uniform(500, 0, 1), uniform(300, 0, 2), FeatureType.NUMERIC, 0.05);
        var moved = DriftTest.KS.run(uniform(500, 0, 1), uniform(300, 0.3, 2), FeatureType.NUMERIC, 0.05);
        assertThat(same.drifted()).isFalse();
        assertThat(moved.drifted()).isTrue();
        assertThat(moved.pValue()).isPresent();
        var far = DriftTest.WASSERSTEIN.run(uniform(2000, 0, 1), uniform(300, 0.3, 2), FeatureType.NUMERIC, 0.1);
        assertThat(far.pValue()).isEmpty();
        assertThat(far.drifted()).isTrue();
        assertThat(DriftTest.JENSEN_SHANNON.run(labels(2000, 3, 1), labels(300, 3, 2), FeatureType.CATEGORICAL, 0.1).drifted()).isFalse();
    }

    static double[][] points(int n, double shift, long seed) {
        var r = new SplittableRandom(seed);
        return IntStream.range(0, n).mapToObj(i -> new double[] {r.nextDouble() + shift, r.nextDouble()}).toArray(double[][]::new);
    }

    @Test
    void mmdPermutationTestSeparatesShiftedFromSameAndRepeatsWithItsSeed() {
        var same = MaximumMeanDiscrepancy.test(points(80, 0, 1), points(70, 0, 2), 200, new SplittableRandom(7));
        var shifted = MaximumMeanDiscrepancy.test(points(80, 0, 1), points(70, 0.5, 2), 200, new SplittableRandom(7));
        assertThat(same.pValue()).isGreaterThan(0.05);
        assertThat(shifted.pValue()).isEqualTo(1.0 / 201);
        assertThat(MaximumMeanDiscrepancy.test(points(80, 0, 1), points(70, 0, 2), 200, new SplittableRandom(7)).pValue())
                .isEqualTo(same.pValue());
    }
}
