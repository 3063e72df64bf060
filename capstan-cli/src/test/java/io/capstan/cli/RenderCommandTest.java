package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan render}: the objects as YAML, without a server (the CLI points at a port where none listens). */
class RenderCommandTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");

    @TempDir
    Path dir;

    static Cli cli() {
        return Cli.against("http://127.0.0.1:9");
    }

    @Test
    void printsTheObjectsOfACapstanJobAndATrainJob() throws Exception {
        var run = cli().run("render", "-f", GOLDEN.resolve("render.input.yaml").toString(), "-n", "team-a");
        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        var expected = GOLDEN.resolve("render.expected.yaml");
        if (Boolean.getBoolean("capstan.golden.update")) Files.writeString(expected, run.out());
        assertThat(run.out()).isEqualTo(Files.readString(expected));
        assertThat(run.out()).contains("kind: \"Job\"", "name: \"hello\"", "namespace: \"team-a\"", "cpu: \"1500m\"",
                "activeDeadlineSeconds: 120", "CAPSTAN_JOB_NAME", "image: \"pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime\"",
                "completions: 3", "PET_MASTER_ADDR", "tj-node-0-0.tj");
    }

    @Test
    void refusesInvalidInputNamingTheFieldAndLine() throws Exception {
        var file = Files.writeString(dir.resolve("bad.yaml"), """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: no-image}
                spec:
                  command: [echo, hi]
                ---
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: no-command}
                spec: {}
                """);
        var run = cli().run("render", "-f", file.toString());
        assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.err()).contains("spec.image").contains("--image").contains("spec.command");
        assertThat(run.out()).isEmpty();

        var withImage = cli().run("render", "-f", file.toString(), "--image", "busybox:1.36");
        assertThat(withImage.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(withImage.err()).doesNotContain("spec.image").contains("spec.command");

        var local = cli().run("render", "-f", file.toString(), "--backend", "local");
        assertThat(local.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(local.err()).contains("only kubernetes");
    }

    @Test
    void printsAnExperimentsTrialAPipelineRunAnInferenceServiceAndACompiledPipeline() throws Exception {
        // The kubernetes module's golden inputs, through the CLI's parser (validation, namespaces) this time.
        var golden = Path.of("../capstan-kubernetes/src/test/resources/golden");
        var run = cli().run("render", "-f", golden.resolve("experiment.input.yaml").toString(), "-f", golden.resolve("pipelinerun.input.yaml").toString(),
                "-f", golden.resolve("inferenceservice.input.yaml").toString(), "--model-server-image", "registry.local/capstan:1");
        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(run.out()).contains("name: \"mnist-grid-1\"", "--lr=0.01", "name: \"train-eval-train-1\"", "capstan.io/task: \"evaluate\"",
                "kind: \"Deployment\"", "name: \"iris-xgb-predictor\"", "kind: \"HorizontalPodAutoscaler\"", "image: \"registry.local/capstan:1\"");

        var pipeline = cli().run("render", "-f", "../examples/iris/iris-pipeline.yaml", "-n", "team-a");
        assertThat(pipeline.err()).isEmpty();
        assertThat(pipeline.exitCode()).isEqualTo(ExitCodes.OK);
        assertThat(pipeline.out()).contains("capstan.io/run: \"iris-training\"", "capstan.io/task: \"csv-ingest\"", "namespace: \"team-a\"")
                .doesNotContain("kind: \"Job\"");
    }
}
