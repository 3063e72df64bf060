package io.capstan.components;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The iris example, step by step, each component run through {@link BuiltinMain} on the last one's outputs. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IrisChainTest {
    Path tmp;

    Step.Result ingest;
    Step.Result split;
    Step.Result xgboost;
    Step.Result logistic;
    Step.Result evalXgboost;
    Step.Result evalLogistic;
    Step.Result onnx;

    @BeforeAll
    void runChain(@TempDir Path dir) {
        tmp = dir;
        ingest = Step.of("csv-ingest", tmp.resolve("ingest"))
                .param("source", "examples/iris/iris.csv")
                .output("dataset", "system.Dataset").run().assertOk();
        split = Step.of("train-test-split", tmp.resolve("split"))
                .input("dataset", "system.Dataset", ingest.path("dataset"))
                .param("seed", 42).param("stratify_column", "species").param("test_fraction", 0.2)
                .output("train", "system.Dataset").output("test", "system.Dataset").run().assertOk();
        xgboost = Step.of("train-xgboost", tmp.resolve("xgboost"))
                .input("train", "system.Dataset", split.path("train"))
                .param("label_column", "species").param("seed", 42.0)
                .output("model", "system.Model").run().assertOk();
        logistic = Step.of("train-logistic-regression", tmp.resolve("logistic"))
                .input("train", "system.Dataset", split.path("train"))
                .param("label_column", "species").param("seed", 42)
                .output("model", "system.Model").run().assertOk();
        evalXgboost = evaluate("eval-xgboost", xgboost).run().assertOk();
        evalLogistic = evaluate("eval-logistic", logistic).run().assertOk();
        onnx = Step.of("export-onnx", tmp.resolve("onnx"))
                .input("model", "system.Model", logistic.path("model"))
                .output("onnx_model", "system.Model").run().assertOk();
    }

    private Step evaluate(String name, Step.Result model) {
        return Step.of("evaluate", tmp.resolve(name))
                .input("model", "system.Model", model.path("model"))
                .input("test", "system.Dataset", split.path("test"))
                .param("label_column", "species")
                .output("metrics", "system.Metrics").output("confusion_matrix", "system.ClassificationMetrics")
                .outputParameter("accuracy");
    }

    @Test
    void ingestCopiesTheCsvAndDescribesIt() throws Exception {
        var m = ingest.metadata("dataset");
        assertThat(m.path("rows").asInt()).isEqualTo(150);
        assertThat(m.path("columns").asInt()).isEqualTo(5);
        assertThat(m.path("column_names").toString())
                .isEqualTo("[\"sepal_length\",\"sepal_width\",\"petal_length\",\"petal_width\",\"species\"]");
        assertThat(m.path("sha256").asText()).isEqualTo(LocalFiles.sha256(ingest.path("dataset")))
                .isEqualTo(LocalFiles.sha256(Step.IRIS));
        assertThat(Files.readString(ingest.path("dataset"))).isEqualTo(Files.readString(Step.IRIS));
        assertThat(ingest.out()).contains("succeeded");
    }

    @Test
    void splitIsStratifiedAndSeeded() throws Exception {
        var train = Table.read(split.path("train"), "train");
        var test = Table.read(split.path("test"), "test");
        assertThat(train.rows()).hasSize(120);
        assertThat(test.rows()).hasSize(30);
        assertThat(countBySpecies(test)).containsExactlyInAnyOrderEntriesOf(Map.of("setosa", 10L, "versicolor", 10L, "virginica", 10L));
        assertThat(countBySpecies(train)).containsExactlyInAnyOrderEntriesOf(Map.of("setosa", 40L, "versicolor", 40L, "virginica", 40L));
        assertThat(split.metadata("test").path("rows").asInt()).isEqualTo(30);
        assertThat(split.metadata("train").path("seed").asLong()).isEqualTo(42);

        var again = Step.of("train-test-split", tmp.resolve("split-again"))
                .input("dataset", "system.Dataset", ingest.path("dataset"))
                .param("seed", 42).param("stratify_column", "species")
                .output("train", "system.Dataset").output("test", "system.Dataset").run().assertOk();
        assertThat(Files.readString(again.path("test"))).isEqualTo(Files.readString(split.path("test")));
        var other = Step.of("train-test-split", tmp.resolve("split-other"))
                .input("dataset", "system.Dataset", ingest.path("dataset"))
                .param("seed", 7).param("stratify_column", "species")
                .output("train", "system.Dataset").output("test", "system.Dataset").run().assertOk();
        assertThat(Files.readString(other.path("test"))).isNotEqualTo(Files.readString(split.path("test")));

        var unstratified = Step.of("train-test-split", tmp.resolve("split-plain"))
                .input("dataset", "system.Dataset", ingest.path("dataset")).param("test_fraction", 0.3)
                .output("train", "system.Dataset").output("test", "system.Dataset").run().assertOk();
        assertThat(unstratified.metadata("test").path("rows").asInt()).isEqualTo(45);
        assertThat(unstratified.metadata("train").path("rows").asInt()).isEqualTo(105);
    }

    private static Map<String, Long> countBySpecies(Table t) {
        int species = t.column("species", "test");
        return t.rows().stream().collect(Collectors.groupingBy(r -> r.get(species), Collectors.counting()));
    }

    @Test
    void xgboostWritesAJsonModelWithProvenance() throws Exception {
        var dir = xgboost.path("model");
        var model = Json.json().readTree(dir.resolve("model.json").toFile());
        assertThat(model.path("learner").path("objective").path("name").asText()).isEqualTo("multi:softprob");
        var provenance = ModelProvenance.read(dir, "model");
        assertThat(provenance.kind()).isEqualTo(ModelKind.XGBOOST);
        assertThat(provenance.classes()).containsExactly("setosa", "versicolor", "virginica");
        assertThat(provenance.featureColumns()).containsExactly("sepal_length", "sepal_width", "petal_length", "petal_width");
        assertThat(provenance.dataset().sha256()).isEqualTo(LocalFiles.sha256(split.path("train")));
        assertThat(provenance.dataset().rows()).isEqualTo(120);
        assertThat(provenance.seed()).isEqualTo(42);
        assertThat(provenance.parameters()).containsEntry("nthread", 1).containsEntry("num_rounds", 50)
                .containsEntry("max_depth", 6).containsEntry("eta", 0.3).containsEntry("num_class", 3);
        assertThat(provenance.library().version()).isEqualTo("3.4.0");
        assertThat(provenance.platform().javaVersion()).isEqualTo(System.getProperty("java.version"));
        assertThat(provenance.trainedAt()).isEqualTo(Step.CLOCK.instant());
        assertThat(xgboost.metadata("model").path("framework").asText()).isEqualTo("xgboost4j");
    }

    @Test
    void trainingIsDeterministic() throws Exception {
        var again = Step.of("train-xgboost", tmp.resolve("xgboost-again"))
                .input("train", "system.Dataset", split.path("train"))
                .param("label_column", "species").param("seed", 42)
                .output("model", "system.Model").run().assertOk();
        assertThat(Files.readString(again.path("model").resolve("model.json")))
                .isEqualTo(Files.readString(xgboost.path("model").resolve("model.json")));
        var lrAgain = Step.of("train-logistic-regression", tmp.resolve("logistic-again"))
                .input("train", "system.Dataset", split.path("train"))
                .param("label_column", "species").param("seed", 42)
                .output("model", "system.Model").run().assertOk();
        var a = TribuoModels.load(lrAgain.path("model").resolve("model.tribuo"), "model");
        var b = TribuoModels.load(logistic.path("model").resolve("model.tribuo"), "model");
        var test = testData();
        var classes = List.of("setosa", "versicolor", "virginica");
        assertThat(TribuoModels.predict(a, test, classes)).isDeepEqualTo(TribuoModels.predict(b, test, classes));
    }

    @Test
    void logisticRegressionWritesTribuoModelWithProvenance() {
        var provenance = ModelProvenance.read(logistic.path("model"), "model");
        assertThat(provenance.kind()).isEqualTo(ModelKind.TRIBUO_LOGISTIC_REGRESSION);
        assertThat(provenance.library().name()).isEqualTo("tribuo");
        assertThat(provenance.library().version()).startsWith("4.3.");
        assertThat(provenance.parameters()).containsEntry("seed", 42).containsEntry("epochs", 100);
        assertThat(Files.isRegularFile(logistic.path("model").resolve("model.tribuo"))).isTrue();
    }

    @Test
    void xgboostIsAccurate() {
        double accuracy = evalXgboost.executorOutput().path("parameterValues").path("accuracy").asDouble();
        System.out.printf("iris test accuracy: xgboost %.4f, logistic regression %.4f; xgboost %s; logistic %s%n", accuracy,
                evalLogistic.executorOutput().path("parameterValues").path("accuracy").asDouble(),
                evalXgboost.metadata("metrics"), evalLogistic.metadata("metrics"));
        assertThat(accuracy).isGreaterThanOrEqualTo(0.9);
        assertThat(Double.parseDouble(evalXgboost.parameterFile("accuracy"))).isEqualTo(accuracy);
    }

    @Test
    void logisticRegressionIsAccurate() {
        assertThat(evalLogistic.executorOutput().path("parameterValues").path("accuracy").asDouble()).isGreaterThanOrEqualTo(0.85);
    }

    @Test
    void evaluateWritesKfpMetricsShapes() throws Exception {
        for (var eval : List.of(evalXgboost, evalLogistic)) {
            var metrics = eval.metadata("metrics");
            assertThat(metrics.path("accuracy").isNumber()).isTrue();
            assertThat(metrics.path("auc").asDouble()).isBetween(0.9, 1.0);
            assertThat(metrics.path("log_loss").asDouble()).isPositive().isLessThan(1.0);
            assertThat(Json.json().readTree(eval.path("metrics").toFile())).isEqualTo(metrics);

            var matrix = eval.metadata("confusion_matrix").path("confusionMatrix");
            assertThat(matrix.path("annotationSpecs").findValuesAsText("displayName"))
                    .containsExactly("setosa", "versicolor", "virginica");
            var rows = matrix.path("rows");
            assertThat(rows).hasSize(3);
            int total = 0;
            int diagonal = 0;
            for (int i = 0; i < 3; i++) {
                var row = rows.get(i).path("row");
                assertThat(row).hasSize(3);
                int sum = 0;
                for (int j = 0; j < 3; j++) sum += row.get(j).asInt();
                assertThat(sum).as("actual class %d has 10 test rows", i).isEqualTo(10);
                total += sum;
                diagonal += row.get(i).asInt();
            }
            assertThat((double) diagonal / total).isCloseTo(metrics.path("accuracy").asDouble(), within(1e-12));
        }
    }

    @Test
    void onnxExportWritesAnOnnxModel() throws Exception {
        var file = onnx.path("onnx_model").resolve("model.onnx");
        var bytes = Files.readAllBytes(file);
        // ModelProto field 1 (ir_version, varint) comes first: tag 0x08.
        assertThat(bytes[0]).isEqualTo((byte) 0x08);
        assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)).contains("Tribuo");
        var m = onnx.metadata("onnx_model");
        assertThat(m.path("framework").asText()).isEqualTo("onnx");
        assertThat(m.path("sha256").asText()).isEqualTo(LocalFiles.sha256(file));
        assertThat(ModelProvenance.read(onnx.path("onnx_model"), "onnx_model").parameters()).containsKey("source_model_sha256");
    }

    @Test
    void onnxModelPredictsTheSameClassesAsTribuo() throws Exception {
        var m = onnx.metadata("onnx_model");
        var featureNames = new ArrayList<String>();
        m.path("feature_names").forEach(n -> featureNames.add(n.asText()));
        var classNames = new ArrayList<String>();
        m.path("class_names").forEach(n -> classNames.add(n.asText()));
        var test = testData();
        var model = TribuoModels.load(logistic.path("model").resolve("model.tribuo"), "model");
        var tribuo = TribuoModels.predict(model, test, classNames);

        var input = new float[test.features().length][featureNames.size()];
        for (int r = 0; r < input.length; r++) {
            for (int f = 0; f < featureNames.size(); f++) {
                input[r][f] = (float) test.features()[r][test.featureColumns().indexOf(featureNames.get(f))];
            }
        }
        var env = OrtEnvironment.getEnvironment();
        try (var options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (var session = env.createSession(onnx.path("onnx_model").resolve("model.onnx").toString(), options);
                 var tensor = OnnxTensor.createTensor(env, input);
                 var result = session.run(Map.of(m.path("input_name").asText(), tensor))) {
                var probabilities = (float[][]) result.get(0).getValue();
                for (int r = 0; r < input.length; r++) {
                    assertThat(argmax(probabilities[r])).as("row %d", r).isEqualTo(argmax(tribuo[r]));
                    for (int c = 0; c < classNames.size(); c++) {
                        assertThat((double) probabilities[r][c]).isCloseTo(tribuo[r][c], within(1e-4));
                    }
                }
            }
        }
    }

    private LabelledData testData() {
        return LabelledData.of(Table.read(split.path("test"), "test"), "species",
                List.of("sepal_length", "sepal_width", "petal_length", "petal_width"), "test");
    }

    private static int argmax(double[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    private static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    @Test
    void onnxExportRefusesXgboost() {
        var result = Step.of("export-onnx", tmp.resolve("onnx-xgb"))
                .input("model", "system.Model", xgboost.path("model"))
                .output("onnx_model", "system.Model").run();
        assertThat(result.exit()).isEqualTo(1);
        assertThat(result.err()).contains("ONNX export of XGBoost models is not supported; use train-logistic-regression or serve the XGBoost model directly");
    }

    @Test
    void executorOutputFollowsKfpShape() {
        JsonNode out = evalXgboost.executorOutput();
        assertThat(out.path("parameterValues").path("accuracy").isNumber()).isTrue();
        var artifact = out.path("artifacts").path("metrics").path("artifacts").get(0);
        assertThat(artifact.path("uri").asText()).startsWith("file://").endsWith("/metrics");
        assertThat(artifact.path("name").asText()).isEqualTo("metrics");
    }
}
