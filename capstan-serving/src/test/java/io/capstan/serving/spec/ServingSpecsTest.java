package io.capstan.serving.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServingSpecsTest {
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(ServingKinds.all()));

    private InferenceServiceSpec parse(String predictor) {
        var yaml = """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: m}
                spec:
                  predictor:
                """ + predictor.indent(4);
        var resource = parser.parse("t.yaml", yaml).getFirst();
        return InferenceServiceSpec.parse(resource.spec(), new io.capstan.core.Problems());
    }

    private List<String> errors(String yaml) {
        try {
            parser.parse("t.yaml", yaml);
        } catch (InvalidSpecException e) {
            return e.errors().stream().map(FieldError::path).toList();
        }
        throw new AssertionError("expected the document to be refused");
    }

    private List<String> predictorErrors(String predictor) {
        return errors("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: m}
                spec:
                  predictor:
                """ + predictor.indent(4));
    }

    @Test
    void badPredictorValuesAreRefusedSayingWhatWasGivenAndWhatIsAllowed() {
        var yaml = """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: m}
                spec:
                  predictor:
                    minReplicas: [1]
                    maxReplicas: "2"
                    canaryTrafficPercent: 12345678901
                    model: {modelFormat: {name: onnx}, runtime: 5, storageUri: "s3://b/\\u0007m"}
                """;
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(InvalidSpecException.class, () -> parser.parse("t.yaml", yaml));
        assertThat(e.errors()).extracting(err -> err.path() + ": " + err.message()).containsExactlyInAnyOrder(
                "spec.predictor.minReplicas: expected an integer from 0 to 1000, got a list",
                "spec.predictor.canaryTrafficPercent: must be from 0 to 100, got 12345678901",
                "spec.predictor.model.runtime: expected a string, got a number",
                "spec.predictor.model.storageUri: 's3://b/\\u0007m' contains a control character");
    }

    @Test
    void readsTheModelFormAndEveryPredictorSetting() {
        var spec = parse("""
                minReplicas: 0
                maxReplicas: 3
                scaleTarget: 5
                scaleMetric: rps
                containerConcurrency: 2
                timeout: 30
                canaryTrafficPercent: 10
                logger: {url: "http://sink:8080", mode: request}
                batcher: {maxBatchSize: 16, maxLatency: 20}
                model:
                  modelFormat: {name: ONNX, version: "1"}
                  runtime: my-runtime
                  protocolVersion: v2
                  storageUri: s3://bucket/model.onnx
                nodeSelector: {gpu: "true"}
                """);
        var p = spec.predictor();
        assertThat(p.model().format()).isEqualTo("onnx");
        assertThat(p.model().formatVersion()).isEqualTo("1");
        assertThat(p.model().runtime()).isEqualTo("my-runtime");
        assertThat(p.model().storageUri()).isEqualTo("s3://bucket/model.onnx");
        assertThat(p.minReplicas()).contains(0);
        assertThat(p.maxReplicas()).contains(3);
        assertThat(p.scaleMetric()).contains("rps");
        assertThat(p.canaryTrafficPercent()).contains(10);
        assertThat(p.logger().orElseThrow().mode()).isEqualTo("request");
        assertThat(p.batcher().orElseThrow().maxBatchSize()).isEqualTo(16);
        assertThat(p.batcher().orElseThrow().maxLatency()).hasMillis(20);
        assertThat(spec.warnings()).anyMatch(w -> w.contains("spec.predictor.nodeSelector"));
    }

    @Test
    void readsEveryLegacyShorthand() {
        for (var shorthand : InferenceServiceSpec.SHORTHANDS) {
            var spec = parse(shorthand + ":\n  storageUri: gs://b/m\n  protocolVersion: v1\n");
            assertThat(spec.predictor().model().format()).isEqualTo(shorthand);
            assertThat(spec.predictor().model().shorthand()).isEqualTo(shorthand);
            assertThat(spec.predictor().model().path()).isEqualTo("spec.predictor." + shorthand);
        }
        var withTransformer = parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: m}
                spec:
                  predictor: {onnx: {storageUri: /m}}
                  transformer: {containers: [{image: t, command: [python3, -m, t], args: [--protocol, v2], env: [{name: A, value: b}]}]}
                  explainer: {containers: [{image: e}]}
                """).getFirst();
        var spec = InferenceServiceSpec.parse(withTransformer.spec(), new io.capstan.core.Problems());
        assertThat(spec.hasTransformer()).isTrue();
        var container = spec.transformer().container();
        assertThat(container.path()).isEqualTo("spec.transformer.containers[0]");
        assertThat(container.command()).containsExactly("python3", "-m", "t");
        assertThat(container.args()).containsExactly("--protocol", "v2");
        assertThat(container.env()).containsEntry("A", "b");
        // transformers run; explainers are refused with the reason
        assertThat(spec.unsupportedComponents()).satisfiesExactly(e -> assertThat(e).startsWith("spec.explainer: "));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: m}
                spec:
                  predictor: {onnx: {storageUri: /m}}
                  transformer: {minReplicas: 1}
                """)).hasMessageContaining("spec.transformer.containers: is required");
    }

    @Test
    void malformedPredictorsNameTheField() {
        assertThat(predictorErrors("model: {storageUri: /m}")).containsExactly("spec.predictor.model.modelFormat");
        assertThat(predictorErrors("model: {modelFormat: {version: '1'}}")).containsExactly("spec.predictor.model.modelFormat.name");
        assertThat(predictorErrors("model: {modelFormat: {name: 5}}")).containsExactly("spec.predictor.model.modelFormat.name");
        assertThat(predictorErrors("model: {modelFormat: {name: onnx}, storageUri: 42}")).containsExactly("spec.predictor.model.storageUri");
        assertThat(predictorErrors("model: {modelFormat: {name: onnx}, protocolVersion: v9}")).containsExactly("spec.predictor.model.protocolVersion");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nsklearn: {storageUri: /m}")).containsExactly("spec.predictor");
        assertThat(predictorErrors("minReplicas: 1")).containsExactly("spec.predictor");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nminReplicas: -1")).containsExactly("spec.predictor.minReplicas");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nminReplicas: 3\nmaxReplicas: 2")).containsExactly("spec.predictor.maxReplicas");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nminReplicas: lots")).containsExactly("spec.predictor.minReplicas");
        assertThat(predictorErrors("onnx: {storageUri: /m}\ncanaryTrafficPercent: 101")).containsExactly("spec.predictor.canaryTrafficPercent");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nscaleMetric: gpu")).containsExactly("spec.predictor.scaleMetric");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nlogger: {url: 'ftp://x', mode: most}"))
                .containsExactly("spec.predictor.logger.url", "spec.predictor.logger.mode");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nbatcher: {maxBatchSize: 0, maxLatency: soon}"))
                .containsExactly("spec.predictor.batcher.maxBatchSize", "spec.predictor.batcher.maxLatency");
        assertThat(predictorErrors("onnx: {storageUri: /m}\ntimeout: 99999999")).containsExactly("spec.predictor.timeout");
        assertThat(predictorErrors("onnx: []")).containsExactly("spec.predictor.onnx");
        assertThat(errors("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: m}
                spec: {}
                """)).containsExactly("spec.predictor");
    }

    @Test
    void hostileValuesAreRefusedNotStored() {
        var huge = "x".repeat(5000);
        assertThat(predictorErrors("onnx: {storageUri: " + huge + "}")).containsExactly("spec.predictor.onnx.storageUri");
        assertThat(predictorErrors("onnx: {storageUri: \"/m\\u0000\\n\"}")).containsExactly("spec.predictor.onnx.storageUri");
        assertThat(predictorErrors("onnx: {storageUri: /m}\nmaxReplicas: 99999999999999999999")).containsExactly("spec.predictor.maxReplicas");
        assertThatThrownBy(() -> parser.parse("t.yaml", "a: &a [*a, *a]\n" + "b: " + "[".repeat(500) + "]".repeat(500)))
                .isInstanceOf(InvalidSpecException.class);
    }

    @Test
    void theServingExamplesAreValid() throws Exception {
        var folder = java.nio.file.Path.of("../examples/serving");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(folder));
        try (var files = java.nio.file.Files.list(folder)) {
            var yamls = files.filter(f -> f.toString().endsWith(".yaml")).toList();
            assertThat(yamls).hasSizeGreaterThanOrEqualTo(4);
            for (var file : yamls) assertThat(parser.parse(file.toString(), java.nio.file.Files.readString(file))).isNotEmpty();
        }
    }

    @Test
    void servingRuntimesAreValidated() {
        var ok = parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1alpha1
                kind: ClusterServingRuntime
                metadata: {name: r}
                spec:
                  supportedModelFormats:
                    - {name: onnx, version: "1", autoSelect: true, priority: 2}
                    - {name: xgboost}
                  protocolVersions: [v1, v2]
                """).getFirst();
        var spec = ServingRuntimeSpec.parse(ok.spec(), new io.capstan.core.Problems());
        assertThat(spec.supportedModelFormats()).hasSize(2);
        assertThat(spec.supportedModelFormats().getFirst().priority()).isEqualTo(2);
        assertThat(spec.supportedModelFormats().get(1).autoSelect()).isFalse();
        assertThat(errors("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: ServingRuntime
                metadata: {name: r}
                spec:
                  supportedModelFormats:
                    - {version: "1"}
                    - {name: onnx, autoSelect: maybe, priority: 0}
                """)).containsExactly("spec.supportedModelFormats[0].name", "spec.supportedModelFormats[1].autoSelect",
                "spec.supportedModelFormats[1].priority");
        assertThat(errors("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: ServingRuntime
                metadata: {name: r}
                spec: {containers: []}
                """)).containsExactly("spec.supportedModelFormats");
    }

    @Test
    void inferenceGraphsAreValidated() {
        var ok = parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1alpha1
                kind: InferenceGraph
                metadata: {name: g}
                spec:
                  nodes:
                    root:
                      routerType: Sequence
                      steps:
                        - {serviceName: a}
                        - {nodeName: split, data: $response}
                    split:
                      routerType: Splitter
                      steps:
                        - {serviceName: b, weight: 30}
                        - {serviceName: c, weight: 70}
                """).getFirst();
        var spec = InferenceGraphSpec.parse(ok.spec(), new io.capstan.core.Problems());
        assertThat(spec.nodes()).containsOnlyKeys("root", "split");
        assertThat(errors("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: InferenceGraph
                metadata: {name: g}
                spec:
                  nodes:
                    start:
                      routerType: Sequence
                      steps:
                        - {serviceName: a, nodeName: b}
                        - {nodeName: nowhere}
                    other:
                      routerType: Splitter
                      steps: [{serviceName: b, weight: 30}]
                    odd: {routerType: Pipeline, steps: [{serviceName: x}]}
                """)).containsExactly("spec.nodes.root", "spec.nodes.start.steps[0]", "spec.nodes.other.steps",
                "spec.nodes.odd.routerType", "spec.nodes.start.steps[0].nodeName", "spec.nodes.start.steps[1].nodeName");
        assertThat(errors("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: InferenceGraph
                metadata: {name: g}
                spec:
                  nodes:
                    root: {routerType: Sequence, steps: [{nodeName: loop}]}
                    loop: {routerType: Sequence, steps: [{nodeName: root}]}
                """)).containsExactly("spec.nodes.root");
    }
}
