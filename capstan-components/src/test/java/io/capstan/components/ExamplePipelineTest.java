package io.capstan.components;

import io.capstan.pipelines.ExecutionPlan;
import io.capstan.pipelines.PipelineParser;
import io.capstan.pipelines.PipelinePlanner;
import io.capstan.pipelines.PipelineValidator;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped iris pipeline parses, validates and plans, and every step names a built-in component that exists. */
class ExamplePipelineTest {
    @Test
    void irisPipelinePlans() throws Exception {
        var file = Step.REPO.resolve("examples/iris/iris-pipeline.yaml");
        var parsed = new PipelineParser().parse(file.getFileName().toString(), Files.readString(file));
        var validator = new PipelineValidator();
        assertThat(validator.check(parsed)).isEmpty();
        var plan = new PipelinePlanner(validator).plan(parsed);

        assertThat(plan.pipelineName()).isEqualTo("iris-training");
        var order = plan.root().order().stream().map(ExecutionPlan.TaskPlan::name).toList();
        assertThat(order).containsExactlyInAnyOrder("csv-ingest", "train-test-split", "train-xgboost",
                "train-logistic-regression", "evaluate", "evaluate-2", "export-onnx", "condition-1");
        // condition-1 (run only with register_as set) registers the exported model.
        assertThat(order.indexOf("export-onnx")).isLessThan(order.indexOf("condition-1"));
        var condition = plan.root().task("condition-1");
        assertThat(condition.step()).isInstanceOf(ExecutionPlan.SubDagStep.class);
        var register = plan.dag(((ExecutionPlan.SubDagStep) condition.step()).component()).order();
        assertThat(register).extracting(ExecutionPlan.TaskPlan::name).containsExactly("register-model");
        assertThat(((ExecutionPlan.ContainerStep) register.getFirst().step()).container().command()).containsExactly("capstan-component", "register-model");
        assertThat(order.indexOf("csv-ingest")).isLessThan(order.indexOf("train-test-split"));
        assertThat(order.indexOf("train-test-split")).isLessThan(order.indexOf("train-xgboost"));
        assertThat(order.indexOf("train-xgboost")).isLessThan(order.indexOf("evaluate"));
        assertThat(order.indexOf("train-logistic-regression")).isLessThan(order.indexOf("evaluate-2"));
        assertThat(order.indexOf("train-logistic-regression")).isLessThan(order.indexOf("export-onnx"));
        assertThat(plan.root().task("evaluate").upstream()).containsExactlyInAnyOrder("train-test-split", "train-xgboost");

        for (var task : plan.root().order()) {
            if (task.name().equals("condition-1")) continue;
            var step = (ExecutionPlan.ContainerStep) task.step();
            var command = step.container().command();
            assertThat(command).hasSize(2);
            assertThat(command.getFirst()).isEqualTo("capstan-component");
            assertThat(BuiltinMain.componentNames()).contains(command.get(1));
            assertThat(step.container().args()).containsExactly("--executor_input", "{{$}}");
        }
    }
}
