package io.capstan.serving.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.capstan.serving.TestModels;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimesTest {
    @TempDir
    Path dir;

    static float[] features(int rows, long seed) {
        var random = new Random(seed);
        var data = new float[rows * 4];
        for (int i = 0; i < data.length; i++) data[i] = random.nextFloat() * 4;
        return data;
    }

    static Booster trainXgboost(float[] data, int rows) throws Exception {
        var labels = new float[rows];
        for (int r = 0; r < rows; r++) labels[r] = data[r * 4] + data[r * 4 + 2] > 4 ? 1 : 0;
        var train = new DMatrix(data, rows, 4, Float.NaN);
        train.setLabel(labels);
        Map<String, Object> params = new HashMap<>(Map.of("objective", "binary:logistic", "max_depth", 3, "eta", 0.3, "nthread", 1, "seed", 7));
        return XGBoost.train(train, params, 10, Map.of(), null, null);
    }

    @Test
    void xgboostServesJsonUbjAndBinaryModelsWithTheBoostersAnswers() throws Exception {
        var data = features(200, 1);
        var booster = trainXgboost(data, 200);
        var expected = booster.predict(new DMatrix(data, 200, 4, Float.NaN));
        var files = new java.util.ArrayList<Path>();
        for (var name : List.of("model.json", "model.ubj")) {
            var file = dir.resolve(name.replace('.', '-')).resolve(name);
            Files.createDirectories(file.getParent());
            booster.saveModel(file.toString());
            files.add(file);
        }
        try {
            var binary = dir.resolve("binary/model.bst");
            Files.createDirectories(binary.getParent());
            Files.write(binary, booster.toByteArray("deprecated"));
            files.add(binary);
        } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
            // this XGBoost build no longer writes the legacy binary format; JSON and UBJ are still checked
        }
        var runtime = new XGBoostModelRuntime();
        for (var file : files) {
            try (var model = runtime.load(new ModelSource("m", file.getParent(), "xgboost", Map.of()))) {
                assertThat(model.inputs().getFirst().shape()).containsExactly(-1L, 4L);
                var out = model.predict(List.of(Tensor.ofFloats("input-0", new long[] {200, 4}, data)), Set.of(), Map.of()).getFirst();
                assertThat(out.shape()).containsExactly(200L);
                for (int r = 0; r < 200; r++) assertThat(out.floats()[r]).as(file.toString()).isCloseTo(expected[r][0], offset(1e-6f));
            }
        }
    }

    @Test
    void xgboostRefusesAFileThatIsNoModel() throws Exception {
        var file = dir.resolve("bad/model.json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"not\": \"a model\"}");
        assertThatThrownBy(() -> new XGBoostModelRuntime().load(new ModelSource("m", file, "xgboost", Map.of())))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("XGBoost cannot load model.json");
    }

    /** Two trees on features 0 and 2 (numerical, missing to the left) and one categorical split on feature 1. */
    static final String LIGHTGBM = """
            tree
            version=v4
            num_class=1
            num_tree_per_iteration=1
            label_index=0
            max_feature_idx=3
            objective=binary sigmoid:1
            feature_names=a b c d
            tree_sizes=1 1 1

            Tree=0
            num_leaves=3
            num_cat=0
            split_feature=0 2
            split_gain=1 1
            threshold=1.5 2.5
            decision_type=10 2
            left_child=-1 -2
            right_child=1 -3
            leaf_value=-1 0.5 2
            shrinkage=1

            Tree=1
            num_leaves=2
            num_cat=1
            split_feature=1
            split_gain=1
            threshold=0
            decision_type=1
            left_child=-1
            right_child=-2
            leaf_value=0.25 -0.25
            cat_boundaries=0 1
            cat_threshold=10
            shrinkage=1

            end of trees
            """;

    static double lightgbmExpected(double a, double b, double c) {
        double t0 = Double.isNaN(a) || a <= 1.5 ? -1 : c <= 2.5 ? 0.5 : 2;
        int category = (int) b;
        double t1 = !Double.isNaN(b) && b >= 0 && category < 32 && ((10 >>> category) & 1) == 1 ? 0.25 : -0.25;
        return 1 / (1 + Math.exp(-(t0 + t1)));
    }

    @Test
    void lightgbmEvaluatesTextModelsInJava() throws Exception {
        var file = dir.resolve("lgb/model.txt");
        Files.createDirectories(file.getParent());
        Files.writeString(file, LIGHTGBM);
        try (var model = new LightGbmModelRuntime().load(new ModelSource("m", file.getParent(), "lightgbm", Map.of()))) {
            float[][] rows = {{1, 1, 0, 0}, {2, 3, 2, 0}, {2, 0, 3, 0}, {Float.NaN, 2, 9, 0}, {5, 4, 1, 0}};
            var flat = new float[rows.length * 4];
            for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, flat, r * 4, 4);
            var out = model.predict(List.of(Tensor.ofFloats("input-0", new long[] {rows.length, 4}, flat)), Set.of(), Map.of()).getFirst();
            assertThat(out.datatype()).isEqualTo(DataType.FP64);
            for (int r = 0; r < rows.length; r++) {
                assertThat(out.doubles()[r]).isCloseTo(lightgbmExpected(rows[r][0], rows[r][1], rows[r][2]), offset(1e-12));
            }
        }
    }

    @Test
    void lightgbmRefusesBrokenModelsWithAReason() throws Exception {
        var runtime = new LightGbmModelRuntime();
        for (var broken : List.of("not a model", LIGHTGBM.replace("left_child=-1 -2", "left_child=-1 7"),
                LIGHTGBM.replace("leaf_value=-1 0.5 2", "leaf_value=-1 x 2"), LIGHTGBM.replace("num_leaves=3", "num_leaves=4"))) {
            var file = Files.createTempFile(dir, "lgb", ".txt");
            Files.writeString(file, broken);
            assertThatThrownBy(() -> runtime.load(new ModelSource("m", file, "lightgbm", Map.of())))
                    .isInstanceOf(ModelLoadException.class).hasMessageContaining("not a LightGBM text model");
        }
    }

    @Test
    void onnxDescribesTheModelAndRefusesGarbage() throws Exception {
        var file = TestModels.irisOnnx(dir.resolve("iris"));
        try (var model = new OnnxModelRuntime().load(new ModelSource("m", file, "onnx", Map.of()))) {
            assertThat(model.batchable()).isTrue();
            assertThat(model.inputs().getFirst().datatype()).isEqualTo(DataType.FP32);
        }
        var garbage = dir.resolve("garbage/model.onnx");
        Files.createDirectories(garbage.getParent());
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5});
        assertThatThrownBy(() -> new OnnxModelRuntime().load(new ModelSource("m", garbage.getParent(), "onnx", Map.of())))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("ONNX Runtime cannot load model.onnx");
        Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> new OnnxModelRuntime().load(new ModelSource("m", dir.resolve("empty"), "onnx", Map.of())))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("no model file");
    }

    @Test
    void customJavaModelsAreFoundByServiceLoaderAndSelectedByFormat() throws Exception {
        var runtimes = Runtimes.builtIn();
        var runtime = runtimes.forFormat("test-scale", null).orElseThrow();
        assertThat(runtime.name()).isEqualTo(JavaModelRuntime.NAME);
        assertThat(runtimes.forFormat("onnx", "1").orElseThrow().name()).isEqualTo(OnnxModelRuntime.NAME);
        assertThat(runtimes.forFormat("sklearn", null)).isEmpty();
        Files.createDirectories(dir.resolve("scale"));
        Files.writeString(dir.resolve("scale/factor.txt"), "2.5");
        try (var model = runtime.load(new ModelSource("m", dir.resolve("scale"), "test-scale", Map.of()))) {
            var out = model.predict(List.of(Tensor.ofDoubles("x", new long[] {2}, new double[] {1, 4})), Set.of(), Map.of());
            assertThat(out.getFirst().doubles()).containsExactly(2.5, 10.0);
        }
        assertThatThrownBy(() -> runtime.load(new ModelSource("m", dir, "test-scale", Map.of())))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("factor.txt");
    }
}
