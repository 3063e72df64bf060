package io.capstan.kfpruntime;

import static io.capstan.kfpruntime.Steps.artifact;
import static io.capstan.kfpruntime.Steps.json;
import static io.capstan.kfpruntime.Steps.readJson;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Component bodies written against the KFP SDK 2.x {@code kfp.dsl} surface, run by {@code python3 -m
 * kfp.dsl.executor_main} on the offline runtime as real child processes. Each asserts inside the component what KFP
 * gives it, so a missing name or a wrong value fails the process.
 */
class SdkSurfaceTest {
    private static final String SOURCE = """
            from typing import List, NamedTuple
            from kfp import dsl
            from kfp.dsl import (Artifact, ClassificationMetrics, Dataset, HTML, Input, InputPath, Markdown, Metrics,
                                 Model, Output, OutputPath, PipelineTaskFinalStatus, SlicedClassificationMetrics)


            @dsl.component
            def custom_path(out_dataset: Output[Dataset]):
                import os
                planned = out_dataset.uri
                target = os.path.join(os.environ['CUSTOM_DIR'], 'out_dataset')
                out_dataset.set_path(target)
                with open(out_dataset.path, 'w') as f:
                    f.write('Hello, World!')
                assert out_dataset.path == target, out_dataset.path
                assert out_dataset.custom_path == target, out_dataset.custom_path
                assert out_dataset.uri == planned, out_dataset.uri


            @dsl.component
            def final_status(status: PipelineTaskFinalStatus) -> str:
                return '|'.join(str(v) for v in (status.state, status.pipeline_job_resource_name,
                                                 status.pipeline_task_name, status.error_code, status.error_message))


            @dsl.component
            def metrics(m: Output[Metrics], c: Output[ClassificationMetrics], s: Output[SlicedClassificationMetrics],
                        h: Output[HTML], md: Output[Markdown], model: Output[Model]):
                m.log_metric('accuracy', 0.9)
                m.log_metric('loss', 1)
                c.log_roc_curve(fpr=[0.0, 0.5], tpr=[0.0, 1.0], threshold=[1.0, 0.5])
                c.log_confusion_matrix(['a', 'b'], [[1, 2], [3, 4]])
                c.log_confusion_matrix_cell('a', 'b', 7)
                s.load_confusion_matrix('slice1', ['x', 'y'], [[5, 6], [7, 8]])
                s.log_roc_reading('slice1', 0.5, 0.8, 0.1)
                for a, text in ((h, '<p>hi</p>'), (md, '# hi')):
                    with open(a.path, 'w') as f:
                        f.write(text)
                model.framework = 'sklearn'
                assert model.schema_title == 'system.Model' and isinstance(model, Artifact)
                assert dsl.get_uri('extra').endswith('/extra'), dsl.get_uri('extra')


            @dsl.component
            def output_list(parts: Output[List[Dataset]]) -> int:
                for i, part in enumerate(parts):
                    with open(part.path, 'w') as f:
                        f.write(f'part {i}')
                    part.metadata['index'] = i
                return len(parts)


            @dsl.component
            def constants() -> str:
                import kfp
                names = [n for n in dsl.__all__ if n.endswith('_PLACEHOLDER')]
                assert all(hasattr(kfp.dsl, n) for n in dsl.__all__), [n for n in dsl.__all__ if not hasattr(kfp.dsl, n)]
                return ';'.join(f'{n}={getattr(dsl, n)}' for n in sorted(names))


            @dsl.component
            def paths(data: InputPath('Dataset'), count: OutputPath(int), copy: OutputPath('Dataset')) -> NamedTuple(
                    'Outputs', [('first_line', str), ('model', Model)]):
                with open(data) as f:
                    text = f.read()
                with open(count, 'w') as f:
                    f.write(str(len(text.splitlines())))
                with open(copy, 'w') as f:
                    f.write(text.upper())
                Outputs = NamedTuple('Outputs', [('first_line', str), ('model', Model)])
                return Outputs(text.splitlines()[0], 'model bytes')
            """;

    @TempDir
    static Path installDir;
    static Path runtime;

    @TempDir
    Path work;

    @BeforeAll
    static void install() {
        runtime = KfpRuntime.install(installDir);
    }

    private String p(String relative) {
        return work.resolve(relative).toString();
    }

    private Steps.Result execute(String function, Map<String, Object> executorInput) throws Exception {
        var module = work.resolve("component.py");
        Files.writeString(module, SOURCE);
        var argv = new ArrayList<>(List.of("python3", "-m", "kfp.dsl.executor_main", "--component_module_path", module.toString(),
                "--executor_input", json(executorInput), "--function_to_execute", function));
        var builder = new ProcessBuilder(argv).directory(work.toFile())
                .redirectOutput(work.resolve("stdout.txt").toFile()).redirectError(work.resolve("stderr.txt").toFile());
        builder.environment().put("PYTHONPATH", runtime.toAbsolutePath().toString());
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        builder.environment().put("CUSTOM_DIR", Files.createDirectories(work.resolve("custom")).toString());
        var process = builder.start();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("component " + function + " did not finish in 30 s");
        } finally {
            if (process.isAlive()) process.destroyForcibly();
        }
        var result = new Steps.Result(process.exitValue(), Files.readString(work.resolve("stdout.txt")),
                Files.readString(work.resolve("stderr.txt")));
        assertThat(result.exitCode()).as("exit code of %s; stderr:\n%s", function, result.stderr()).isZero();
        return result;
    }

    private static String read(String path) throws Exception {
        return Files.readString(Path.of(path), StandardCharsets.UTF_8);
    }

    @Test
    void setPathWritesAtTheCustomPathAndTheExecutorCopiesItToTheArtifactUri() throws Exception {
        execute("custom_path", Map.of("outputs", Map.of(
                "artifacts", Map.of("out_dataset", Steps.artifacts(artifact("out_dataset", "system.Dataset", "file://" + p("a/out_dataset")))),
                "outputFile", p("a/executor_output.json"))));

        assertThat(read(p("custom/out_dataset"))).isEqualTo("Hello, World!");
        assertThat(read(p("a/out_dataset"))).isEqualTo("Hello, World!");
        var written = readJson(Path.of(p("a/executor_output.json"))).at("/artifacts/out_dataset/artifacts/0");
        assertThat(written.path("uri").asText()).isEqualTo("file://" + p("a/out_dataset"));
        assertThat(written.path("custom_path").asText()).isEqualTo(p("custom/out_dataset"));
    }

    @Test
    void pipelineTaskFinalStatusReadsTheFieldsTheBackendWrites() throws Exception {
        var status = Map.of("state", "FAILED", "pipelineJobResourceName", "my-run", "pipelineTaskName", "exit-handler-1",
                "error", Map.of("code", 2, "message", "task root/exit-handler-1/fail failed"));
        execute("final_status", Map.of(
                "inputs", Map.of("parameterValues", Map.of("status", status)),
                "outputs", Map.of("outputFile", p("f/executor_output.json"))));

        assertThat(readJson(Path.of(p("f/executor_output.json"))).at("/parameterValues/Output").asText())
                .isEqualTo("FAILED|my-run|exit-handler-1|2|task root/exit-handler-1/fail failed");

        execute("final_status", Map.of(
                "inputs", Map.of("parameterValues", Map.of("status", Map.of("state", "COMPLETE",
                        "pipelineJobResourceName", "my-run", "pipelineTaskName", "exit-handler-1", "error", Map.of()))),
                "outputs", Map.of("outputFile", p("g/executor_output.json"))));
        assertThat(readJson(Path.of(p("g/executor_output.json"))).at("/parameterValues/Output").asText())
                .isEqualTo("COMPLETE|my-run|exit-handler-1|None|None");
    }

    @Test
    void metricsArtifactsWriteTheirMetadataAsKfpDoes() throws Exception {
        var outputs = new java.util.LinkedHashMap<String, Object>();
        for (var e : Map.of("m", "system.Metrics", "c", "system.ClassificationMetrics", "s", "system.SlicedClassificationMetrics",
                "h", "system.HTML", "md", "system.Markdown", "model", "system.Model").entrySet()) {
            outputs.put(e.getKey(), Steps.artifacts(artifact(e.getKey(), e.getValue(), "file://" + p("m/" + e.getKey()))));
        }
        execute("metrics", Map.of("outputs", Map.of("artifacts", outputs, "outputFile", p("m/executor_output.json"))));

        var arts = readJson(Path.of(p("m/executor_output.json"))).path("artifacts");
        assertThat(arts.at("/m/artifacts/0/metadata").toString()).isEqualTo("{\"accuracy\":0.9,\"loss\":1}");
        assertThat(arts.at("/c/artifacts/0/metadata/confidenceMetrics").toString()).isEqualTo(
                "[{\"confidenceThreshold\":1.0,\"recall\":0.0,\"falsePositiveRate\":0.0},"
                        + "{\"confidenceThreshold\":0.5,\"recall\":1.0,\"falsePositiveRate\":0.5}]");
        assertThat(arts.at("/c/artifacts/0/metadata/confusionMatrix").toString()).isEqualTo(
                "{\"annotationSpecs\":[{\"displayName\":\"a\"},{\"displayName\":\"b\"}],\"rows\":[{\"row\":[1,7]},{\"row\":[3,4]}]}");
        var slice = arts.at("/s/artifacts/0/metadata/evaluationSlices/0");
        assertThat(slice.path("slice").asText()).isEqualTo("slice1");
        assertThat(slice.at("/sliceClassificationMetrics/confusionMatrix/rows").toString()).isEqualTo("[{\"row\":[5,6]},{\"row\":[7,8]}]");
        assertThat(slice.at("/sliceClassificationMetrics/confidenceMetrics/0/recall").asDouble()).isEqualTo(0.8);
        assertThat(arts.at("/model/artifacts/0/metadata").toString()).isEqualTo("{\"framework\":\"sklearn\"}");
        assertThat(read(p("m/h"))).isEqualTo("<p>hi</p>");
        assertThat(read(p("m/md"))).isEqualTo("# hi");
    }

    @Test
    void anOutputListGetsEveryPlannedArtifactAndWritesThemAllBack() throws Exception {
        var list = Map.of("artifacts", List.of(
                artifact("parts", "system.Dataset", "file://" + p("l/parts-0")),
                artifact("parts", "system.Dataset", "file://" + p("l/parts-1"))));
        execute("output_list", Map.of("outputs", Map.of("artifacts", Map.of("parts", list),
                "parameters", Map.of("Output", Map.of("outputFile", p("l/Output"))),
                "outputFile", p("l/executor_output.json"))));

        assertThat(read(p("l/parts-0"))).isEqualTo("part 0");
        assertThat(read(p("l/parts-1"))).isEqualTo("part 1");
        var output = readJson(Path.of(p("l/executor_output.json")));
        assertThat(output.at("/artifacts/parts/artifacts").size()).isEqualTo(2);
        assertThat(output.at("/artifacts/parts/artifacts/1/metadata/index").asInt()).isEqualTo(1);
        assertThat(output.at("/parameterValues/Output").asInt()).isEqualTo(2);
    }

    @Test
    void dslPlaceholderConstantsAreKfpsStrings() throws Exception {
        execute("constants", Map.of("outputs", Map.of("outputFile", p("c/executor_output.json"))));

        assertThat(readJson(Path.of(p("c/executor_output.json"))).at("/parameterValues/Output").asText().split(";")).containsExactly(
                "PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER={{$.pipeline_job_create_time_utc}}",
                "PIPELINE_JOB_ID_PLACEHOLDER={{$.pipeline_job_uuid}}",
                "PIPELINE_JOB_NAME_PLACEHOLDER={{$.pipeline_job_name}}",
                "PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER={{$.pipeline_job_resource_name}}",
                "PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER={{$.pipeline_job_schedule_time_utc}}",
                "PIPELINE_ROOT_PLACEHOLDER={{$.pipeline_root}}",
                "PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER={{$}}",
                "PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER={{$.outputs.output_file}}",
                "PIPELINE_TASK_ID_PLACEHOLDER={{$.pipeline_task_uuid}}",
                "PIPELINE_TASK_NAME_PLACEHOLDER={{$.pipeline_task_name}}",
                "WORKSPACE_PATH_PLACEHOLDER={{$.workspace_path}}");
    }

    @Test
    void inputAndOutputPathsAndANamedTupleWithAnArtifactField() throws Exception {
        Files.createDirectories(work.resolve("in"));
        Files.writeString(work.resolve("in/data"), "line one\nline two\n");
        execute("paths", Map.of(
                "inputs", Map.of("artifacts", Map.of("data", Steps.artifacts(artifact("data", "system.Dataset", "file://" + p("in/data"))))),
                "outputs", Map.of(
                        "parameters", Map.of("count", Map.of("outputFile", p("o/count")), "first_line", Map.of("outputFile", p("o/first_line"))),
                        "artifacts", Map.of(
                                "copy", Steps.artifacts(artifact("copy", "system.Dataset", "file://" + p("o/copy"))),
                                "model", Steps.artifacts(artifact("model", "system.Model", "file://" + p("o/model")))),
                        "outputFile", p("o/executor_output.json"))));

        assertThat(read(p("o/count"))).isEqualTo("2");
        assertThat(read(p("o/copy"))).isEqualTo("LINE ONE\nLINE TWO\n");
        assertThat(read(p("o/first_line"))).isEqualTo("line one");
        assertThat(read(p("o/model"))).isEqualTo("model bytes");
        var output = readJson(Path.of(p("o/executor_output.json")));
        assertThat(output.at("/parameterValues/first_line").asText()).isEqualTo("line one");
        assertThat(output.at("/artifacts/model/artifacts/0/uri").asText()).isEqualTo("file://" + p("o/model"));
    }
}
