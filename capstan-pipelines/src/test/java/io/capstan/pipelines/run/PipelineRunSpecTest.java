package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Problems;
import org.junit.jupiter.api.Test;

class PipelineRunSpecTest {
    private static final String PIPELINE = """
            components:
              comp-step:
                executorLabel: exec-step
            deploymentSpec:
              executors:
                exec-step:
                  container:
                    command: [sh, -c, 'true']
                    image: alpine:3
            pipelineInfo:
              name: %s
            root:
              dag:
                tasks:
                  a:
                    componentRef: {name: comp-step}
                    taskInfo: {name: a}
                  b:
                    componentRef: {name: comp-step}
                    dependentTasks: [a]
                    taskInfo: {name: b}
            schemaVersion: 2.1.0
            sdkVersion: kfp-2.7.0
            """;

    private static ObjectNode spec(String pipelineText) {
        var spec = JsonNodeFactory.instance.objectNode();
        spec.put("pipelineSpec", pipelineText);
        return spec;
    }

    @Test
    void theSameTextIsParsedOnceAndAnotherTextAgain() {
        var text = PIPELINE.formatted("cached-" + System.nanoTime());
        var first = PipelineRunSpec.of(spec(text)).planned();
        var again = PipelineRunSpec.of(spec(new String(text.toCharArray()))).planned();
        assertThat(again).isSameAs(first);
        assertThat(first.plan().root().order()).extracting(t -> t.name()).containsExactly("a", "b");

        var other = PipelineRunSpec.of(spec(PIPELINE.formatted("other-" + System.nanoTime()))).planned();
        assertThat(other).isNotSameAs(first);
        assertThat(other.parsed().spec().pipelineInfo().name()).startsWith("other-");
    }

    @Test
    void aPlatformSpecMakesItAnotherPipeline() {
        var text = PIPELINE.formatted("platform-" + System.nanoTime());
        var plain = PipelineRunSpec.of(spec(text)).planned();
        var withPlatform = spec(text);
        withPlatform.putObject("platformSpec").putObject("platforms").putObject("kubernetes").putObject("deploymentSpec")
                .putObject("executors").putObject("exec-step").put("activeDeadlineSeconds", 5);
        assertThat(PipelineRunSpec.of(withPlatform).planned()).isNotSameAs(plain);
    }

    @Test
    void aBrokenPipelineFailsEveryTimeItIsRead() {
        var broken = spec(PIPELINE.formatted("broken").replace("componentRef: {name: comp-step}\n        dependentTasks: [a]",
                "componentRef: {name: comp-missing}\n        dependentTasks: [a]"));
        for (int i = 0; i < 2; i++) {
            var problems = new Problems();
            PipelineRunSpec.validate(broken, problems);
            assertThat(problems.isEmpty()).isFalse();
            assertThatThrownBy(() -> PipelineRunSpec.of(broken).planned()).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("comp-missing");
        }
    }
}
