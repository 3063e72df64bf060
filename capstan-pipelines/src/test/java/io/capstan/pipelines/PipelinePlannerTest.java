package io.capstan.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.InvalidSpecException;
import org.junit.jupiter.api.Test;

class PipelinePlannerTest {
    private final PipelineParser parser = new PipelineParser();
    private final PipelinePlanner planner = new PipelinePlanner(new PipelineValidator());

    private ExecutionPlan plan(String file) {
        return planner.plan(parser.parse(file, OwnCases.read(OwnCases.file(file))));
    }

    @Test
    void ordersTasksAfterTheirUpstreamEvenWhenWrittenFirst() {
        var root = plan("valid/loop_condition_exit_handler.yaml").root();

        assertThat(root.order()).extracting(ExecutionPlan.TaskPlan::name).containsExactly("produce", "consume", "notify");
        assertThat(root.task("consume").upstream()).containsExactly("produce");
    }

    @Test
    void marksLoopsConditionsAndExitHandlersWithoutEvaluatingThem() {
        var root = plan("valid/loop_condition_exit_handler.yaml").root();

        assertThat(root.task("produce").isLoop()).isTrue();
        assertThat(root.task("produce").task().parallelismLimit()).isEqualTo(2);
        assertThat(root.task("consume").isConditional()).isTrue();
        assertThat(root.exitHandlers()).extracting(ExecutionPlan.TaskPlan::name).containsExactly("notify");
    }

    @Test
    void resolvesComponentExecutorAndInputSources() {
        var root = plan("valid/loop_condition_exit_handler.yaml").root();

        var produce = root.task("produce");
        assertThat(produce.component()).isEqualTo("comp-produce");
        assertThat(produce.step()).isInstanceOfSatisfying(ExecutionPlan.ContainerStep.class,
                s -> assertThat(s.executorLabel()).isEqualTo("exec-produce"));
        assertThat(produce.parameters().get("text")).isInstanceOf(ExecutionPlan.LoopItem.class);
        assertThat(root.task("consume").parameters().get("line")).isInstanceOfSatisfying(ExecutionPlan.Supplied.class,
                s -> assertThat(s.input().source()).isEqualTo(new PipelineTask.TaskOutputParameter("produce", "Output")));
        assertThat(root.task("notify").parameters().get("status")).isInstanceOfSatisfying(ExecutionPlan.Supplied.class,
                s -> assertThat(s.input().source()).isEqualTo(new PipelineTask.TaskFinalStatus("consume")));
    }

    @Test
    void carriesPlatformWarningsIntoThePlan() {
        var plan = plan("valid/with_platform_spec.yaml");

        assertThat(plan.warnings()).isNotEmpty();
        assertThat(plan.pipelineName()).isEqualTo("demo");
    }

    @Test
    void refusesToPlanAnInvalidPipeline() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> plan("invalid/cycle.yaml"))
                .withMessageContaining("cycle");
    }

    @Test
    void plansEachDagComponentOfTheCorpusSubDagPipeline() {
        Corpus.require();
        var file = Corpus.COMPILED.resolve("valid/failing/pipeline_with_exit_handler.yaml");

        var plan = planner.plan(parser.parse(file.getFileName().toString(), Corpus.read(file)));

        assertThat(plan.root().task("exit-handler-1").step()).isEqualTo(new ExecutionPlan.SubDagStep("comp-exit-handler-1"));
        assertThat(plan.dag("comp-exit-handler-1").order()).extracting(ExecutionPlan.TaskPlan::name)
                .containsExactlyInAnyOrder("fail-op", "print-op-2");
        assertThat(plan.root().exitHandlers()).extracting(ExecutionPlan.TaskPlan::name).containsExactly("print-op");
        assertThat(plan.root().order()).extracting(ExecutionPlan.TaskPlan::name).containsExactly("exit-handler-1", "print-op");
    }
}
