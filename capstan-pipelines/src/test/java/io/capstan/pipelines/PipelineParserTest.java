package io.capstan.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PipelineParserTest {
    private final PipelineParser parser = new PipelineParser();

    private static String twoSteps() {
        return OwnCases.read(OwnCases.file("valid/two_steps.yaml"));
    }

    @Test
    void readsTheIrIntoRecords() {
        var spec = parser.parse("p.yaml", twoSteps()).spec();

        assertThat(spec.pipelineInfo().name()).isEqualTo("demo");
        assertThat(spec.schemaVersion()).isEqualTo("2.1.0");
        assertThat(spec.components()).containsOnlyKeys("comp-produce", "comp-consume");
        assertThat(spec.executors().get("exec-consume")).isInstanceOfSatisfying(ExecutorSpec.Container.class,
                c -> assertThat(c.command()).containsExactly("cat"));
        var consume = ((ComponentSpec.DagBody) spec.root().body()).dag().tasks().get("consume");
        assertThat(consume.parameters().get("line").source())
                .isEqualTo(new PipelineTask.TaskOutputParameter("produce", "Output"));
        assertThat(consume.raw().path("taskInfo").path("name").asText()).isEqualTo("consume");
    }

    @Test
    void readsTheSameSpecFromJson() throws Exception {
        var yaml = parser.parse("p.yaml", twoSteps());
        var json = Json.json().writeValueAsString(yaml.spec().raw());

        var fromJson = parser.parse("p.json", json);

        assertThat(fromJson.spec().components()).isEqualTo(yaml.spec().components());
    }

    @Test
    void readsResourcesInBothIrFormsAsQuantities() {
        var deprecated = "    exec-consume:\n      container:\n        resources: {cpuLimit: 1.5, memoryLimit: 0.268435456, memoryRequest: 2,"
                + " accelerator: {type: nvidia.com/gpu, count: '2'}}\n";
        var current = "    exec-consume:\n      container:\n        resources: {resourceCpuLimit: 500m, resourceMemoryLimit: 256Mi,"
                + " accelerator: {resourceType: nvidia.com/gpu, resourceCount: '1'}}\n";

        var old = (ExecutorSpec.Container) parser.parse("p.yaml", twoSteps().replace("    exec-consume:\n      container:\n", deprecated))
                .spec().executors().get("exec-consume");
        var now = (ExecutorSpec.Container) parser.parse("p.yaml", twoSteps().replace("    exec-consume:\n      container:\n", current))
                .spec().executors().get("exec-consume");

        assertThat(old.resources()).isEqualTo(new ExecutorSpec.Resources("1.5", "0.268435456G", "", "2G", "nvidia.com/gpu", "2"));
        assertThat(now.resources()).isEqualTo(new ExecutorSpec.Resources("500m", "256Mi", "", "", "nvidia.com/gpu", "1"));
    }

    @Test
    void platformFieldsNotAppliedLocallyBecomeWarningsNotSilence() {
        var parsed = parser.parse("p.yaml", OwnCases.read(OwnCases.file("valid/with_platform_spec.yaml")));

        assertThat(parsed.platform().isEmpty()).isFalse();
        assertThat(parsed.warnings()).extracting(PipelineWarning::path).containsExactly(
                "platforms.kubernetes.deploymentSpec.executors.exec-produce.nodeSelector");
        assertThat(parsed.warnings().getFirst().message()).isEqualTo("executor 'exec-produce': node selector {\"labels\":{\"disk\":\"ssd\"}} "
                + "is not applied locally: every step runs on this machine; it takes effect on the Kubernetes backend");
    }

    @Test
    void unknownFieldsAreKeptAndReported() {
        var text = twoSteps().replace("sdkVersion: kfp-2.13.0", "sdkVersion: kfp-2.13.0\nfutureField: 7");

        var parsed = parser.parse("p.yaml", text);

        assertThat(parsed.spec().raw().path("futureField").asInt()).isEqualTo(7);
        assertThat(parsed.warnings()).extracting(PipelineWarning::path).contains("futureField");
    }

    @Test
    void readsRetryPolicyDurations() {
        var text = twoSteps().replace("      consume:\n", """
                      consume:
                        retryPolicy:
                          maxRetryCount: 3
                          backoffDuration: 1.5s
                          backoffFactor: 2
                          backoffMaxDuration: 3600s
                """);

        var task = ((ComponentSpec.DagBody) parser.parse("p.yaml", text).spec().root().body()).dag().tasks().get("consume");

        assertThat(task.retryPolicy()).isEqualTo(new PipelineTask.RetryPolicy(3, Duration.ofMillis(1500), 2.0, Duration.ofHours(1)));
    }

    @Test
    void rejectsMalformedYamlNamingTheLine() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("bad.yaml", "pipelineInfo:\n  name: [unclosed\nroot: {"))
                .withMessageContaining("bad.yaml")
                .withMessageContaining("malformed YAML");
    }

    @Test
    void rejectsEmptyInput() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("empty.yaml", "# only a comment\n"))
                .withMessageContaining("empty");
    }

    @Test
    void rejectsDeepNestingThroughTheCoreLimits() {
        var deep = "a: " + "[".repeat(10_000) + "]".repeat(10_000);

        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("deep.yaml", deep))
                .withMessageContaining("nest");
    }

    @Test
    void rejectsOversizedInput() {
        var huge = "pipelineInfo:\n  description: '" + "x".repeat(Json.MAX_DOCUMENT_BYTES) + "'\n";

        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("huge.yaml", huge))
                .withMessageContaining("limit");
    }

    @Test
    void rejectsAScalarDocument() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("s.yaml", "just a string"))
                .withMessageContaining("expected a KFP PipelineSpec object");
    }

    @Test
    void rejectsWrongFieldTypesWithTheirPath() {
        var text = twoSteps().replace("        dependentTasks:\n        - produce\n", "        dependentTasks: 5\n");

        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> parser.parse("p.yaml", text))
                .satisfies(e -> assertThat(e.errors()).anySatisfy(err -> {
                    assertThat(err.path()).isEqualTo("root.dag.tasks.consume.dependentTasks");
                    assertThat(err.message()).contains("expected a list");
                    assertThat(err.line()).isPositive();
                }));
    }
}
