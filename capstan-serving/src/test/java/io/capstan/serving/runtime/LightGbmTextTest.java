package io.capstan.serving.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Capstan's Java evaluation of LightGBM text models against LightGBM itself: each case trains a small model with
 * LightGBM (features with zeros, NaNs and a categorical column), saves it as text, and compares Capstan's scores for
 * rows it has not seen (NaN, zero, negative and unseen categories included) to LightGBM's scores for the same text.
 */
class LightGbmTextTest {
    private static final int COLS = 5;
    private static final int CATEGORICAL = 4;
    private static final int TRAIN_ROWS = 600;
    private static final int TEST_ROWS = 400;
    private static final String COMMON = "verbose=-1 num_threads=1 deterministic=true seed=3 num_leaves=12 min_data_in_leaf=5"
            + " min_data_per_group=5 cat_smooth=1 max_cat_to_onehot=4 learning_rate=0.2 categorical_feature=" + CATEGORICAL;

    @TempDir
    Path dir;

    enum Labels { REAL, POSITIVE, BINARY, PROBABILITY, CLASSES, GRADES }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("objective=regression", Labels.REAL),
                Arguments.of("objective=regression reg_sqrt=true", Labels.REAL),
                Arguments.of("objective=regression_l1", Labels.REAL),
                Arguments.of("objective=regression_l1 reg_sqrt=true", Labels.REAL),
                Arguments.of("objective=huber alpha=0.8", Labels.REAL),
                Arguments.of("objective=fair fair_c=0.5", Labels.REAL),
                Arguments.of("objective=quantile alpha=0.7", Labels.REAL),
                Arguments.of("objective=mape", Labels.POSITIVE),
                Arguments.of("objective=poisson", Labels.POSITIVE),
                Arguments.of("objective=gamma", Labels.POSITIVE),
                Arguments.of("objective=tweedie tweedie_variance_power=1.4", Labels.POSITIVE),
                Arguments.of("objective=binary sigmoid=0.7", Labels.BINARY),
                Arguments.of("objective=multiclass num_class=3", Labels.CLASSES),
                Arguments.of("objective=multiclassova num_class=3 sigmoid=1.3", Labels.CLASSES),
                Arguments.of("objective=cross_entropy", Labels.PROBABILITY),
                Arguments.of("objective=cross_entropy_lambda", Labels.PROBABILITY),
                Arguments.of("objective=lambdarank", Labels.GRADES),
                Arguments.of("objective=rank_xendcg", Labels.GRADES),
                // random forest: average_output
                Arguments.of("boosting=rf bagging_fraction=0.6 bagging_freq=1 feature_fraction=0.8 objective=regression", Labels.REAL),
                Arguments.of("boosting=rf bagging_fraction=0.6 bagging_freq=1 objective=binary", Labels.BINARY),
                Arguments.of("boosting=rf bagging_fraction=0.6 bagging_freq=1 objective=multiclass num_class=3", Labels.CLASSES),
                Arguments.of("boosting=dart drop_rate=0.3 objective=regression", Labels.REAL),
                Arguments.of("boosting=goss objective=binary", Labels.BINARY),
                // linear trees: leaf_const, leaf_coeff, leaf_features
                Arguments.of("linear_tree=true linear_lambda=0.01 objective=regression", Labels.REAL),
                Arguments.of("linear_tree=true objective=binary", Labels.BINARY),
                Arguments.of("linear_tree=true objective=multiclass num_class=3", Labels.CLASSES),
                Arguments.of("linear_tree=true objective=poisson", Labels.POSITIVE),
                // missing values: none (NaN taken as 0), zero as missing, NaN as missing (the default, above)
                Arguments.of("use_missing=false objective=regression", Labels.REAL),
                Arguments.of("zero_as_missing=true objective=regression", Labels.REAL));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void scoresAsLightGbmDoes(String params, Labels kind) throws Exception {
        var random = new Random(params.hashCode());
        var train = features(random, TRAIN_ROWS, false);
        var labels = labels(train, kind, random);
        int[] groups = kind == Labels.GRADES ? groups(TRAIN_ROWS, 20) : null;
        var test = features(random, TEST_ROWS, true);
        var scored = LightGbmNative.trainAndScore(train, labels, groups, COLS, COMMON + " " + params, 12, -1, test);

        var capstan = predict(scored.text(), test);
        assertThat(capstan).hasSameSizeAs(scored.scores());
        assertClose(capstan, scored.scores(), params);
    }

    /** A model saved with fewer iterations than it trained (as save_model(num_iteration=best_iteration) does). */
    @Test
    void scoresTheIterationsThatWereSaved() throws Exception {
        var random = new Random(11);
        var train = features(random, TRAIN_ROWS, false);
        var test = features(random, TEST_ROWS, true);
        var labels = labels(train, Labels.BINARY, random);
        // deterministic=true: both runs grow the same trees
        var full = LightGbmNative.trainAndScore(train, labels, null, COLS, COMMON + " objective=binary", 12, -1, test);
        var firstFive = LightGbmNative.trainAndScore(train, labels, null, COLS, COMMON + " objective=binary", 12, 5, test);
        var expected = LightGbmNative.score(full.text(), COLS, test, 5);
        assertClose(predict(firstFive.text(), test), expected, "first 5 iterations");
    }

    /** LightGBM splits on doubles: features that differ only past float precision must not be rounded to FP32. */
    @Test
    void scoresDoubleFeaturesAtFullPrecision() throws Exception {
        var random = new Random(17);
        var train = features(random, TRAIN_ROWS, false);
        var test = features(random, TEST_ROWS, false);
        for (var x : new double[][] {train, test}) {
            for (int r = 0; r < x.length / COLS; r++) x[r * COLS] = 1 + random.nextInt(2000) * 1e-9;
        }
        var labels = new float[TRAIN_ROWS];
        for (int r = 0; r < TRAIN_ROWS; r++) labels[r] = (float) ((train[r * COLS] - 1) * 1e6 + 0.1 * train[r * COLS + 3]);
        var scored = LightGbmNative.trainAndScore(train, labels, null, COLS, COMMON + " objective=regression", 12, -1, test);
        assertClose(predict(scored.text(), Tensor.ofDoubles("input-0", new long[] {TEST_ROWS, COLS}, test)), scored.scores(), "FP64 features");
    }

    @Test
    void refusesModelsItCannotEvaluateNamingWhatIsUnsupported() throws Exception {
        var random = new Random(5);
        var train = features(random, TRAIN_ROWS, false);
        var text = LightGbmNative.trainAndScore(train, labels(train, Labels.REAL, random), null, COLS, COMMON + " objective=regression", 3, -1,
                features(random, 1, true)).text();
        var runtime = new LightGbmModelRuntime();
        var cases = Map.of(
                text.replace("objective=regression", "objective=survival_cox"), "objective 'survival_cox'",
                text.replace("objective=regression", "objective=multiclass num_class:3"), "multiclass",
                text.replaceFirst("is_linear=0", "is_linear=1"), "leaf_const",
                text.replaceFirst("split_feature=\\d+", "split_feature=7"), "split_feature");
        for (var e : cases.entrySet()) {
            var file = Files.createTempFile(dir, "lgb", ".txt");
            Files.writeString(file, e.getKey());
            assertThatThrownBy(() -> runtime.load(new ModelSource("m", file, "lightgbm", Map.of())))
                    .isInstanceOf(ModelLoadException.class).hasMessageContaining(e.getValue());
        }
    }

    /** Capstan's scores for the rows of {@code test}, sent as FP32 (all test values are floats) as most clients send them. */
    private double[] predict(String text, double[] test) throws Exception {
        var floats = new float[test.length];
        for (int i = 0; i < test.length; i++) floats[i] = (float) test[i];
        return predict(text, Tensor.ofFloats("input-0", new long[] {test.length / COLS, COLS}, floats));
    }

    private double[] predict(String text, Tensor input) throws Exception {
        var file = Files.createTempFile(dir, "model", ".txt");
        Files.writeString(file, text);
        try (var model = new LightGbmModelRuntime().load(new ModelSource("m", file, "lightgbm", Map.of()))) {
            assertThat(model.inputs().getFirst().datatype()).isEqualTo(DataType.FP64);
            var out = model.predict(List.of(input), Set.of(), Map.of()).getFirst();
            assertThat(out.datatype()).isEqualTo(DataType.FP64);
            long width = out.shape().length == 1 ? 1 : out.shape()[1];
            assertThat(model.outputs().getFirst().shape()).isEqualTo(width == 1 ? List.of(-1L) : List.of(-1L, width));
            return out.doubles();
        }
    }

    /** Within 1e-9 relative (1e-12 absolute near 0); the largest error measured on these cases was under 1e-13. */
    private static void assertClose(double[] actual, double[] expected, String what) {
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1e-3);
            if (!(error <= worst)) {
                worst = error;
                worstAt = i;
            }
        }
        assertThat(worst).as("%s: largest relative error, at score %d: Capstan %s, LightGBM %s", what, worstAt,
                worstAt < 0 ? "" : actual[worstAt], worstAt < 0 ? "" : expected[worstAt]).isLessThanOrEqualTo(1e-9);
    }

    /**
     * Columns: 0 and 3 real, 1 with many exact zeros, 2 with NaNs, 4 categorical (0..7). Unseen rows also have NaN
     * and zero everywhere, negative, fractional and unseen categories. All values are floats, as Capstan's input is FP32.
     */
    static double[] features(Random random, int rows, boolean unseen) {
        var x = new double[rows * COLS];
        for (int r = 0; r < rows; r++) {
            int o = r * COLS;
            x[o] = (float) (random.nextDouble() * 4 - 2);
            x[o + 1] = random.nextInt(5) == 0 ? 0 : (float) (random.nextDouble() * 3);
            x[o + 2] = random.nextInt(6) == 0 ? Double.NaN : (float) random.nextGaussian();
            x[o + 3] = (float) (random.nextDouble() * 10 - 5);
            x[o + 4] = random.nextInt(8);
            if (unseen && random.nextInt(4) == 0) {
                int column = random.nextInt(COLS);
                double[] odd = column == CATEGORICAL ? new double[] {Double.NaN, 0, -1, -0.5, 0.5, 9, 40, 1e10}
                        : new double[] {Double.NaN, 0, -0.0, 1e-36, -1e-36, 100, -100};
                x[o + column] = odd[random.nextInt(odd.length)];
            }
        }
        return x;
    }

    static float[] labels(double[] x, Labels kind, Random random) {
        int rows = x.length / COLS;
        var y = new float[rows];
        double[] categoryEffect = {0.5, -1, 2, 0, 1, -0.5, 1.5, -2};
        for (int r = 0; r < rows; r++) {
            int o = r * COLS;
            double signal = 2 * Math.sin(x[o]) + x[o + 1] - (Double.isNaN(x[o + 2]) ? 1 : 0.5 * x[o + 2]) + 0.2 * x[o + 3]
                    + categoryEffect[(int) x[o + CATEGORICAL]] + 0.3 * random.nextGaussian();
            y[r] = (float) switch (kind) {
                case REAL -> signal;
                case POSITIVE -> Math.exp(signal / 3);
                case BINARY -> signal > 1 ? 1 : 0;
                case PROBABILITY -> 1 / (1 + Math.exp(-signal));
                case CLASSES -> signal < 0 ? 0 : signal < 2 ? 1 : 2;
                case GRADES -> Math.max(0, Math.min(3, Math.floor(signal + 1)));
            };
        }
        return y;
    }

    static int[] groups(int rows, int size) {
        var groups = new int[rows / size];
        java.util.Arrays.fill(groups, size);
        return groups;
    }
}
