package io.capstan.monitoring.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every drift statistic equals scipy's to 1e-9 on the data of {@code drift/drift-scipy-reference.py}, regenerated
 * here from the same closed forms (the JSON beside it is that script's output from Debian's python3-scipy).
 */
class ScipyAgreementTest {
    static final double TOLERANCE = 1e-9;
    static JsonNode scipy;
    static double[] ref;
    static double[] cur;

    @BeforeAll
    static void load() throws IOException {
        try (var in = ScipyAgreementTest.class.getResourceAsStream("/drift/drift-scipy-reference.json")) {
            scipy = new ObjectMapper().readTree(in);
        }
        ref = series(1000, i -> ((i * 7919L) % 1000) / 100.0);
        cur = series(800, i -> ((i * 104729L) % 1000) / 100.0 * 0.9 + 1.0);
    }

    static double[] series(int n, IntToDoubleFunction f) {
        return IntStream.range(0, n).mapToDouble(f).toArray();
    }

    static void close(double actual, JsonNode expected) {
        assertThat(actual).isCloseTo(expected.asDouble(), within(TOLERANCE));
    }

    static void ks(KolmogorovSmirnov.Result r, JsonNode expected, KolmogorovSmirnov.Method method) {
        close(r.statistic(), expected.path("statistic"));
        close(r.pValue(), expected.path("pvalue"));
        assertThat(r.method()).isEqualTo(method);
    }

    @Test
    void kolmogorovSmirnovExactAsScipyChoosesBelow10000() {
        ks(KolmogorovSmirnov.test(ref, cur), scipy.path("ks_2samp"), KolmogorovSmirnov.Method.EXACT);
        ks(KolmogorovSmirnov.test(Arrays.copyOf(ref, 50), Arrays.copyOf(cur, 40)), scipy.path("ks_2samp_exact_50_40"),
                KolmogorovSmirnov.Method.EXACT);
        ks(KolmogorovSmirnov.test(Arrays.copyOf(ref, 60), Arrays.copyOf(cur, 60)), scipy.path("ks_2samp_exact_60_60"),
                KolmogorovSmirnov.Method.EXACT);
    }

    @Test
    void kolmogorovSmirnovAsymptoticForcedAndChosenAbove10000() {
        var asymp = KolmogorovSmirnov.Method.ASYMPTOTIC;
        ks(KolmogorovSmirnov.test(ref, cur, asymp), scipy.path("ks_2samp_asymp_1000_800"), asymp);
        ks(KolmogorovSmirnov.test(Arrays.copyOf(ref, 100), Arrays.copyOf(cur, 150), asymp), scipy.path("ks_2samp_asymp_100_150"), asymp);
        var shifted = Arrays.stream(Arrays.copyOf(ref, 800)).map(v -> v + 0.05).toArray();
        ks(KolmogorovSmirnov.test(ref, shifted, asymp), scipy.path("ks_2samp_asymp_1000_800_near"), asymp);
        var bigRef = series(12007, i -> ((i * 7919L) % 12007) / 1200.7);
        var bigCur = series(11003, i -> ((i * 104729L) % 11003) / 1100.3 * 0.995 + 0.12);
        ks(KolmogorovSmirnov.test(bigRef, bigCur), scipy.path("ks_2samp_auto_12007_11003"), asymp);
    }

    @Test
    void binsAreNumpys() {
        var edges = Histogram.linspace(0, 11, 11);
        assertThat(edges).containsExactly(doubles(scipy.path("bins").path("edges")));
        assertThat(Histogram.counts(ref, edges)).containsExactly(longs(scipy.path("bins").path("ref_counts")));
        assertThat(Histogram.counts(cur, edges)).containsExactly(longs(scipy.path("bins").path("cur_counts")));
        var pooled = Arrays.copyOf(ref, 1800);
        System.arraycopy(cur, 0, pooled, 1000, 800);
        var sturges = Histogram.sturgesEdges(pooled);
        assertThat(sturges).containsExactly(doubles(scipy.path("sturges").path("edges")));
        assertThat(Histogram.counts(ref, sturges)).containsExactly(longs(scipy.path("sturges").path("ref_counts")));
        assertThat(Histogram.counts(cur, sturges)).containsExactly(longs(scipy.path("sturges").path("cur_counts")));
    }

    @Test
    void psiKlAndJensenShannon() {
        var edges = Histogram.linspace(0, 11, 11);
        var p = Histogram.proportions(Histogram.counts(ref, edges));
        var q = Histogram.proportions(Histogram.counts(cur, edges));
        close(Divergence.psi(p, q), scipy.path("psi_eps1e-4"));
        close(Divergence.kullbackLeibler(p, q), scipy.path("kl_ref||cur_eps1e-4"));
        close(Divergence.jensenShannon(p, q, 2), scipy.path("js_distance_base2"));
        close(Math.pow(Divergence.jensenShannon(p, q, 2), 2), scipy.path("js_divergence_base2"));
        close(Divergence.jensenShannon(p, q), scipy.path("js_distance_e"));
        var shares = DriftTest.shares(ref, cur, FeatureType.NUMERIC);
        close(Divergence.psi(shares[0], shares[1]), scipy.path("sturges").path("psi_eps1e-4"));
        close(DriftTest.PSI.run(ref, cur, FeatureType.NUMERIC, 0.1).statistic(), scipy.path("sturges").path("psi_eps1e-4"));
    }

    @Test
    void chiSquareGoodnessOfFit() {
        var edges = Histogram.linspace(0, 11, 11);
        var r = ChiSquare.test(Histogram.counts(ref, edges), Histogram.counts(cur, edges));
        close(r[0], scipy.path("chisquare_cur_vs_ref_expected").path("statistic"));
        close(r[1], scipy.path("chisquare_cur_vs_ref_expected").path("pvalue"));
    }

    @Test
    void twoProportionZ() {
        var refBin = series(1000, i -> ((i * 7919L) % 1000) < 300 ? 1 : 0);
        var curBin = series(800, i -> ((i * 104729L) % 1000) < 360 ? 1 : 0);
        var r = TwoProportionZ.test(Arrays.stream(refBin).filter(v -> v == 1).count(), 1000,
                Arrays.stream(curBin).filter(v -> v == 1).count(), 800);
        close(r[0], scipy.path("two_proportion_z").path("statistic"));
        close(r[1], scipy.path("two_proportion_z").path("pvalue"));
        // as the default test for a binary feature: the share of 0s, the first value, so Z has the other sign
        var z = DriftTest.Z.run(refBin, curBin, FeatureType.CATEGORICAL, 0.05);
        close(-z.statistic(), scipy.path("two_proportion_z").path("statistic"));
        close(z.pValue().orElseThrow(), scipy.path("two_proportion_z").path("pvalue"));
    }

    @Test
    void wassersteinAndItsNormalisedForm() {
        close(Wasserstein.distance(ref, cur), scipy.path("wasserstein"));
        close(Wasserstein.normalised(ref, cur), scipy.path("wasserstein_normalised"));
        close(DriftTest.WASSERSTEIN.run(ref, cur, FeatureType.NUMERIC, 0.1).statistic(), scipy.path("wasserstein_normalised"));
    }

    @Test
    void mmdStatisticAndBandwidthMatchNumpy() {
        var x = IntStream.range(0, 60).mapToObj(i -> new double[] {((i * 7919L) % 1000) / 100.0, ((i * 104729L) % 997) / 99.7})
                .toArray(double[][]::new);
        var y = IntStream.range(0, 50).mapToObj(i -> new double[] {((i * 6007L) % 1000) / 100.0 + 0.8, ((i * 3571L) % 991) / 99.1})
                .toArray(double[][]::new);
        var r = MaximumMeanDiscrepancy.test(x, y, 0, new SplittableRandom(1));
        close(r.sigma(), scipy.path("mmd2_unbiased").path("sigma"));
        close(r.statistic(), scipy.path("mmd2_unbiased").path("statistic"));
    }

    static double[] doubles(JsonNode array) {
        var out = new double[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asDouble();
        return out;
    }

    static long[] longs(JsonNode array) {
        var out = new long[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asLong();
        return out;
    }
}
