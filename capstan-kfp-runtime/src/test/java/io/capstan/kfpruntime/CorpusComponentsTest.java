package io.capstan.kfpruntime;

import static io.capstan.kfpruntime.Steps.artifact;
import static io.capstan.kfpruntime.Steps.artifacts;
import static io.capstan.kfpruntime.Steps.executor;
import static io.capstan.kfpruntime.Steps.json;
import static io.capstan.kfpruntime.Steps.readJson;
import static io.capstan.kfpruntime.Steps.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs components from KFP's compiled pipelines with the offline runtime, as real {@code python3} processes, and
 * checks their outputs against what KFP's executor writes.
 */
class CorpusComponentsTest {
    private static final String FUNCTIONS = "essential/lightweight_python_functions_with_outputs.yaml";

    @TempDir
    static Path installDir;
    static Path runtime;

    @TempDir
    Path work;

    @BeforeAll
    static void install() {
        runtime = KfpRuntime.install(installDir);
    }

    private static LightweightSteps.Rewritten rewrite(Steps.Container c) {
        return LightweightSteps.rewrite(c.command(), c.args(), runtime, PythonImports.create()::isImportable);
    }

    private Steps.Result runOk(Steps.Container c, Map<String, Object> executorInput) throws Exception {
        var step = rewrite(c);
        assertThat(step.isLightweight()).isTrue();
        assertThat(step.missingPackages()).isEmpty();
        var result = run(step, json(executorInput), work);
        assertThat(result.exitCode()).as("exit code; stderr:\n%s", result.stderr()).isZero();
        return result;
    }

    private String p(String relative) {
        return work.resolve(relative).toString();
    }

    private static String read(String path) throws Exception {
        return Files.readString(Path.of(path), StandardCharsets.UTF_8);
    }

    @Test
    void intReturnGoesToParameterValuesAndOutputFile() throws Exception {
        var c = executor(FUNCTIONS, "exec-add-numbers");
        runOk(c, Map.of(
                "inputs", Map.of("parameterValues", Map.of("first", 1, "second", 2.0)),
                "outputs", Map.of("parameters", Map.of("Output", Map.of("outputFile", p("out/Output"))),
                        "outputFile", p("out/executor_output.json"))));

        var output = readJson(Path.of(p("out/executor_output.json")));
        assertThat(output.toString()).isEqualTo("{\"parameterValues\":{\"Output\":3}}");
        assertThat(read(p("out/Output"))).isEqualTo("3");
    }

    @Test
    void strReturnAndPrintedOutputReachTheCaller() throws Exception {
        var c = executor(FUNCTIONS, "exec-concat-message");
        var result = runOk(c, Map.of(
                "inputs", Map.of("parameterValues", Map.of("first", "Hello ", "second", "KFP")),
                "outputs", Map.of("outputFile", p("out/executor_output.json"))));

        assertThat(readJson(Path.of(p("out/executor_output.json"))).path("parameterValues").path("Output").asText())
                .isEqualTo("Hello KFP");
        assertThat(result.stdout()).contains("Loading KFP component \"concat_message\"");
    }

    @Test
    void returnedDataIsWrittenToTheOutputArtifactAndNamedTupleFieldsAreSplit() throws Exception {
        var writer = executor(FUNCTIONS, "exec-output-artifact");
        runOk(writer, Map.of(
                "inputs", Map.of("parameterValues", Map.of("number", 2, "message", "hi")),
                "outputs", Map.of("artifacts", Map.of("Output",
                                artifacts(artifact("Output", "system.Dataset", "file://" + p("w/Output")))),
                        "outputFile", p("w/executor_output.json"))));
        assertThat(read(p("w/Output"))).isEqualTo("hi\nhi");
        var written = readJson(Path.of(p("w/executor_output.json")));
        assertThat(written.at("/artifacts/Output/artifacts/0/uri").asText()).isEqualTo("file://" + p("w/Output"));
        assertThat(written.at("/artifacts/Output/artifacts/0/name").asText()).isEqualTo("Output");

        var reader = executor(FUNCTIONS, "exec-output-named-tuple");
        runOk(reader, Map.of(
                "inputs", Map.of("artifacts", Map.of("artifact",
                        artifacts(artifact("Output", "system.Dataset", "file://" + p("w/Output"))))),
                "outputs", Map.of(
                        "parameters", Map.of("scalar", Map.of("outputFile", p("r/scalar"))),
                        "artifacts", Map.of(
                                "metrics", artifacts(artifact("metrics", "system.Metrics", p("r/metrics"))),
                                "model", artifacts(artifact("model", "system.Model", p("r/model")))),
                        "outputFile", p("r/executor_output.json"))));

        assertThat(read(p("r/model"))).isEqualTo("Model contents: hi\nhi");
        assertThat(read(p("r/scalar"))).isEqualTo("123");
        assertThat(read(p("r/metrics"))).contains("\"numberValue\": 0.9");
        var output = readJson(Path.of(p("r/executor_output.json")));
        assertThat(output.path("parameterValues").toString()).isEqualTo("{\"scalar\":\"123\"}");
        assertThat(output.at("/artifacts/model/artifacts/0").toString())
                .isEqualTo("{\"name\":\"model\",\"uri\":\"" + p("r/model") + "\",\"metadata\":{}}");
        assertThat(output.at("/artifacts/metrics/artifacts/0/uri").asText()).isEqualTo(p("r/metrics"));
    }

    @Test
    void outputDatasetWriterFeedsAListOfInputDatasets() throws Exception {
        var doubler = executor("artifacts_simple.yaml", "exec-double");
        for (int i = 1; i <= 2; i++) {
            runOk(doubler, Map.of(
                    "inputs", Map.of("parameterValues", Map.of("num", i)),
                    "outputs", Map.of("artifacts", Map.of("out_dataset",
                                    artifacts(artifact("out_dataset", "system.Dataset", p("d" + i + "/deep/out_dataset")))),
                            "outputFile", p("d" + i + "/executor_output.json"))));
            assertThat(read(p("d" + i + "/deep/out_dataset"))).isEqualTo(String.valueOf(2 * i));
        }

        var adder = executor("artifacts_simple.yaml", "exec-add");
        runOk(adder, Map.of(
                "inputs", Map.of("artifacts", Map.of("in_datasets", Map.of("artifacts", List.of(
                        artifact("a", "system.Dataset", p("d1/deep/out_dataset")),
                        artifact("b", "system.Dataset", "file://" + p("d2/deep/out_dataset")))))),
                "outputs", Map.of("artifacts", Map.of("out_dataset",
                                artifacts(artifact("out_dataset", "system.Dataset", p("sum/out_dataset")))),
                        "outputFile", p("sum/executor_output.json"))));
        assertThat(read(p("sum/out_dataset"))).isEqualTo("6");
        assertThat(readJson(Path.of(p("sum/executor_output.json"))).at("/artifacts/out_dataset/artifacts/0/uri")
                .asText()).isEqualTo(p("sum/out_dataset"));
    }

    @Test
    void metricsAreLoggedIntoArtifactMetadata() throws Exception {
        var c = executor("essential/pipeline_with_metrics_outputs.yaml", "exec-output-metrics");
        runOk(c, Map.of("outputs", Map.of("artifacts", Map.of("metrics",
                        artifacts(artifact("metrics", "system.Metrics", p("m/metrics")))),
                "outputFile", p("m/executor_output.json"))));

        var metadata = readJson(Path.of(p("m/executor_output.json"))).at("/artifacts/metrics/artifacts/0/metadata");
        assertThat(metadata.path("accuracy").isInt()).isTrue();
        assertThat(metadata.path("accuracy").asInt()).isBetween(0, 100);
    }

    @Test
    void classificationMetricsNamedTupleOfParametersAndSlicedMetrics() throws Exception {
        var source = Files.readString(Path.of("src/test/resources/components/classification_metrics.py"));
        var c = executor(FUNCTIONS, "exec-concat-message").withSource(source).withFunction("evaluate");
        runOk(c, Map.of(
                "inputs", Map.of("parameterValues", Map.of("threshold", 1)),
                "outputs", Map.of(
                        "parameters", Map.of("passed", Map.of("outputFile", p("c/passed")),
                                "summary", Map.of("outputFile", p("c/summary"))),
                        "artifacts", Map.of(
                                "metrics", artifacts(artifact("metrics", "system.ClassificationMetrics", p("c/metrics"))),
                                "scalars", artifacts(artifact("scalars", "system.Metrics", p("c/scalars"))),
                                "sliced", artifacts(artifact("sliced", "system.SlicedClassificationMetrics", p("c/sliced")))),
                        "outputFile", p("c/executor_output.json"))));

        JsonNode output = readJson(Path.of(p("c/executor_output.json")));
        assertThat(output.path("parameterValues").toString())
                .isEqualTo("{\"passed\":false,\"summary\":{\"accuracy\":0.85}}");
        assertThat(read(p("c/passed"))).isEqualTo("false");
        assertThat(read(p("c/summary"))).isEqualTo("{\"accuracy\": 0.85}");
        assertThat(output.at("/artifacts/metrics/artifacts/0/metadata").toString()).isEqualTo(
                "{\"confusionMatrix\":{\"annotationSpecs\":[{\"displayName\":\"cat\"},{\"displayName\":\"dog\"}],"
                        + "\"rows\":[{\"row\":[8,2]},{\"row\":[1,9]}]},"
                        + "\"confidenceMetrics\":["
                        + "{\"confidenceThreshold\":1.0,\"recall\":0.0,\"falsePositiveRate\":0.0},"
                        + "{\"confidenceThreshold\":0.5,\"recall\":0.8,\"falsePositiveRate\":0.5},"
                        + "{\"confidenceThreshold\":0.0,\"recall\":1.0,\"falsePositiveRate\":1.0}]}");
        assertThat(output.at("/artifacts/scalars/artifacts/0/metadata").toString())
                .isEqualTo("{\"accuracy\":0.85,\"nan_loss\":\"NaN\"}");
        assertThat(output.at("/artifacts/sliced/artifacts/0/metadata/evaluationSlices/0/slice").asText())
                .isEqualTo("all");
    }

    @Test
    void markdownAndHtmlAreWrittenToTheirPaths() throws Exception {
        var markdown = executor("metrics_visualization_v2.yaml", "exec-markdown-visualization");
        runOk(markdown, Map.of("outputs", Map.of("artifacts", Map.of("markdown_artifact",
                        artifacts(artifact("markdown_artifact", "system.Markdown", p("md/markdown_artifact")))),
                "outputFile", p("md/executor_output.json"))));
        assertThat(read(p("md/markdown_artifact"))).isEqualTo("## Hello world \n\n Markdown content");

        var html = executor("metrics_visualization_v2.yaml", "exec-html-visualization");
        runOk(html, Map.of("outputs", Map.of("artifacts", Map.of("html_artifact",
                        artifacts(artifact("html_artifact", "system.HTML", p("html/html_artifact")))),
                "outputFile", p("html/executor_output.json"))));
        assertThat(read(p("html/html_artifact"))).contains("<h1>Hello world</h1>");
        assertThat(readJson(Path.of(p("html/executor_output.json"))).at("/artifacts/html_artifact/artifacts/0/name")
                .asText()).isEqualTo("html_artifact");
    }

    @Test
    void outputPathStrHandsTheParameterFileToTheFunction() throws Exception {
        var c = executor("if_elif_else_with_oneof_parameters.yaml", "exec-special-print-and-return");
        var result = runOk(c, Map.of(
                "inputs", Map.of("parameterValues", Map.of("text", "Got heads!")),
                "outputs", Map.of("parameters", Map.of("output_key", Map.of("outputFile", p("o/sub/output_key"))),
                        "outputFile", p("o/executor_output.json"))));

        assertThat(read(p("o/sub/output_key"))).isEqualTo("Got heads!");
        assertThat(read(p("o/executor_output.json"))).isEqualTo("{}");
        assertThat(result.stdout()).contains("Got the special state: Got heads!");
    }

    @Test
    void pythonicArtifactsReturnedFromANamedTupleUseGetUri() throws Exception {
        Files.createDirectories(work.resolve("in"));
        Files.writeString(work.resolve("in/data"), "abcdef");
        var c = executor("pythonic_artifacts_with_multiple_returns.yaml", "exec-dataset-splitter");
        runOk(c, Map.of(
                "inputs", Map.of("artifacts", Map.of("in_dataset",
                        artifacts(artifact("source", "system.Dataset", p("in/data"))))),
                "outputs", Map.of("artifacts", Map.of(
                                "dataset1", artifacts(artifact("dataset1", "system.Dataset", p("task/dataset1"))),
                                "dataset2", artifacts(artifact("dataset2", "system.Dataset", p("task/dataset2")))),
                        "outputFile", p("task/executor_output.json"))));

        assertThat(read(p("task/dataset1"))).isEqualTo("abc");
        assertThat(read(p("task/dataset2"))).isEqualTo("def");
        var output = readJson(Path.of(p("task/executor_output.json")));
        assertThat(output.at("/artifacts/dataset2/artifacts/0").toString()).isEqualTo(
                "{\"name\":\"\",\"uri\":\"" + p("task/dataset2") + "\",\"metadata\":{\"original_data\":\"source\"}}");
    }

    @Test
    void nestedListReturnAndListParametersAreJson() throws Exception {
        runOk(executor("nested_return.yaml", "exec-nested-return"),
                Map.of("outputs", Map.of("outputFile", p("n/executor_output.json"))));
        assertThat(readJson(Path.of(p("n/executor_output.json"))).toString()).isEqualTo(
                "{\"parameterValues\":{\"Output\":[{\"A_a\":\"1\",\"B_b\":\"2\"},{\"A_a\":\"10\",\"B_b\":\"20\"}]}}");

        runOk(executor("parameters_complex.yaml", "exec-nested-add"), Map.of(
                "inputs", Map.of("parameterValues", Map.of("nums", List.of(List.of(1, 2), List.of(3.0)))),
                "outputs", Map.of("outputFile", p("s/executor_output.json"))));
        assertThat(readJson(Path.of(p("s/executor_output.json"))).at("/parameterValues/Output").asText())
                .isEqualTo("6");
    }

    @Test
    void exitHandlerReceivesThePipelineTaskFinalStatus() throws Exception {
        var result = runOk(executor("pipeline_with_task_final_status.yaml", "exec-exit-op"), Map.of(
                "inputs", Map.of("parameterValues", Map.of("user_input", "x", "status", Map.of(
                        "state", "FAILED", "pipelineJobResourceName", "runs/1", "pipelineTaskName", "fail-op",
                        "error", Map.of("code", 9, "message", "boom")))),
                "outputs", Map.of("outputFile", p("x/executor_output.json"))));

        assertThat(result.stdout()).contains("Pipeline status:  FAILED", "Job resource name:  runs/1",
                "Pipeline task name:  fail-op", "Error code:  9", "Error message:  boom");
    }
}
