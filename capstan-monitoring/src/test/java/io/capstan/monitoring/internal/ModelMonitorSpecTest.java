package io.capstan.monitoring.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.capstan.core.FieldError;
import io.capstan.core.Problems;
import io.capstan.monitoring.drift.DriftTest;
import io.capstan.monitoring.drift.FeatureType;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ModelMonitorSpecTest {
    static ObjectNode yaml(String text) {
        try {
            return (ObjectNode) new YAMLMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theMinimalFormDefaultsEverythingElse() {
        var problems = new Problems();
        var spec = ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference:
                  uri: file:///data/iris.csv
                  features: [sepal_length, sepal_width, petal_length, petal_width]
                window: {rows: 200}
                """), problems);
        assertThat(problems.errors()).isEmpty();
        assertThat(spec.inferenceService()).isEqualTo("iris");
        assertThat(spec.reference().features()).extracting(ModelMonitorSpec.Feature::name)
                .containsExactly("sepal_length", "sepal_width", "petal_length", "petal_width");
        assertThat(spec.reference().features()).allMatch(f -> f.type() == FeatureType.NUMERIC && f.test().isEmpty());
        assertThat(spec.window().rows()).isEqualTo(200);
        assertThat(spec.window().minRows()).isEqualTo(30);
        assertThat(spec.defaultTest()).isEmpty();
        assertThat(spec.driftShare()).isEqualTo(0.5);
        assertThat(spec.predictions()).isTrue();
        assertThat(spec.interval()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void everyOptionIsRead() {
        var problems = new Problems();
        var spec = ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference:
                  fromRequests: 500
                  features: [a, {name: b, type: categorical, test: chisquare, threshold: 0.01}]
                window: {duration: 1h, minRows: 50}
                tests: {default: psi, multivariate: mmd}
                thresholds: {driftShare: 0.25, psi: 0.2}
                predictions: false
                interval: 5s
                """), problems);
        assertThat(problems.errors()).isEmpty();
        assertThat(spec.reference().fromRequests()).isEqualTo(500);
        var b = spec.reference().features().get(1);
        assertThat(b.type()).isEqualTo(FeatureType.CATEGORICAL);
        assertThat(spec.threshold(b, DriftTest.CHI_SQUARE)).isEqualTo(0.01);
        assertThat(spec.threshold(spec.reference().features().get(0), DriftTest.PSI)).isEqualTo(0.2);
        assertThat(spec.threshold(spec.reference().features().get(0), DriftTest.KS)).isEqualTo(0.05);
        assertThat(spec.window().duration()).contains(Duration.ofHours(1));
        assertThat(spec.defaultTest()).contains(DriftTest.PSI);
        assertThat(spec.multivariate()).isTrue();
        assertThat(spec.predictions()).isFalse();
    }

    @Test
    void hostileSpecsAreRefusedFieldByField() {
        var problems = new Problems();
        var spec = ModelMonitorSpec.parse(yaml("""
                inferenceService: {name: iris}
                reference:
                  uri: "file:///data/x.csv"
                  fromRequests: 10
                  features: [ "a\\u0000b", 7, {name: c, extra: 1} ]
                window: {rows: 99999999999, minRows: 5}
                tests: [ks]
                thresholds: {ks: "NaN", nope: 1}
                predictions: "yes"
                interval: 3d
                actions: {run: x}
                """), problems);
        assertThat(spec).isNull();
        assertThat(problems.errors()).extracting(FieldError::path).contains("spec.inferenceService", "spec.reference",
                "spec.reference.features[0]", "spec.reference.features[1]", "spec.reference.features[2].extra", "spec.window.rows",
                "spec.tests", "spec.thresholds.ks", "spec.thresholds.nope", "spec.predictions", "spec.interval", "spec.actions");
    }

    @Test
    void aRetrainActionIsReadWithItsDefaultsAndEachBadFieldIsNamed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var pipeline = java.nio.file.Files.writeString(dir.resolve("p.yaml"), "pipelineInfo: {name: p}");
        var problems = new Problems();
        var spec = ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference: {uri: "file:///d.csv", features: [a]}
                window: {rows: 100}
                actions:
                - retrain:
                    pipeline: {file: %s}
                    parameters: {seed: 7}
                    labelColumn: species
                """.formatted(pipeline)), problems);
        assertThat(problems.errors()).isEmpty();
        var retrain = spec.retrain().orElseThrow();
        assertThat(retrain.pipelineFile()).contains(pipeline);
        assertThat(retrain.parameters().get("seed").asInt()).isEqualTo(7);
        assertThat(retrain.datasetParameter()).isEqualTo("source");
        assertThat(retrain.labelColumn()).isEqualTo("species");
        assertThat(retrain.afterWindows()).isEqualTo(3);
        assertThat(retrain.canaryTrafficPercent()).isEqualTo(10);
        assertThat(retrain.modelTask()).isEqualTo("export-onnx");
        assertThat(retrain.modelOutput()).isEqualTo("onnx_model");

        var bad = new Problems();
        assertThat(ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference: {uri: "file:///d.csv", features: [a]}
                window: {rows: 100}
                actions:
                - retrain:
                    pipeline: {file: relative.yaml}
                    parameters: [1]
                    afterWindows: 0
                    canaryTrafficPercent: 100
                    model: {task: t, outputs: x}
                    colour: red
                """), bad)).isNull();
        assertThat(bad.errors()).extracting(FieldError::path).contains("spec.actions[0].retrain.pipeline.file", "spec.actions[0].retrain.parameters",
                "spec.actions[0].retrain.afterWindows", "spec.actions[0].retrain.canaryTrafficPercent", "spec.actions[0].retrain.model.outputs",
                "spec.actions[0].retrain.colour");
        var neither = new Problems();
        assertThat(ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference: {uri: "file:///d.csv", features: [a]}
                window: {rows: 100}
                actions: [{retrain: {pipeline: {}}}, {retrain: {}}]
                """), neither)).isNull();
        assertThat(neither.errors()).extracting(FieldError::path).containsExactly("spec.actions");
        var one = new Problems();
        assertThat(ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference: {uri: "file:///d.csv", features: [a]}
                window: {rows: 100}
                actions: [{retrain: {pipeline: {}}}]
                """), one)).isNull();
        assertThat(one.errors()).extracting(FieldError::path).containsExactly("spec.actions[0].retrain.pipeline");
    }

    @Test
    void aWindowNeedsRowsOrADurationAndAReferenceNeedsFeatures() {
        var problems = new Problems();
        assertThat(ModelMonitorSpec.parse(yaml("""
                inferenceService: iris
                reference: {uri: "file:///d.csv", features: []}
                window: {}
                """), problems)).isNull();
        assertThat(problems.errors()).extracting(FieldError::path).containsExactlyInAnyOrder("spec.reference.features", "spec.window");
        var missing = new Problems();
        assertThat(ModelMonitorSpec.parse(yaml("{}"), missing)).isNull();
        assertThat(missing.errors()).extracting(FieldError::path).contains("spec.inferenceService", "spec.reference");
    }

    @Test
    void everyDatasetUriFormIsReadAndAMalformedOneIsRefusedNamingTheField() {
        for (var uri : java.util.List.of("file:///data/iris.parquet", "s3://bucket/refs/iris.csv", "capstan://artifacts/refs/iris.parquet",
                "mlmd://artifacts/42", "registry-dataset://iris-reference", "registry-dataset://7")) {
            var problems = new Problems();
            var spec = ModelMonitorSpec.parse(yaml("""
                    inferenceService: iris
                    reference: {uri: "%s", features: [a]}
                    """.formatted(uri)), problems);
            assertThat(problems.errors()).as(uri).isEmpty();
            assertThat(spec.reference().uri()).hasValue(java.net.URI.create(uri));
        }
        for (var uri : java.util.List.of("s3://bucket", "s3://bucket/", "s3:///key", "capstan://artifacts/", "mlmd://artifacts/abc",
                "mlmd://artifacts/0", "mlmd://runs/1", "mlmd://artifacts/1?x=y", "registry-dataset://", "registry-dataset://a/b",
                "ftp://host/x.csv", "https://example.com/iris.csv", "iris.csv", "file://relative/x.csv", "s3://b/k with space")) {
            var problems = new Problems();
            assertThat(ModelMonitorSpec.parse(yaml("""
                    inferenceService: iris
                    reference: {uri: "%s", features: [a]}
                    """.formatted(uri)), problems)).as(uri).isNull();
            assertThat(problems.errors()).as(uri).extracting(FieldError::path).containsExactly("spec.reference.uri");
        }
    }
}
