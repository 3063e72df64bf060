package io.capstan.pipelines.run;

import static io.capstan.pipelines.run.RunFixture.state;
import static io.capstan.pipelines.run.RunFixture.task;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.BooleanNode;
import io.capstan.core.Problems;
import io.capstan.metadata.EventType;
import io.capstan.metadata.PropertyValue;
import io.capstan.store.Reconciler.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run engine against a real store, real child processes and real lineage. */
class PipelineRunReconcilerTest {
    @TempDir
    Path dir;
    RunFixture fx;

    @BeforeEach
    void setUp() {
        fx = new RunFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private Map<String, String> params() {
        return Map.of("dir", dir.toString());
    }

    @Test
    void passesAParameterFromProducerToConsumerAndASecondReconcileChangesNothing() {
        var key = fx.submit("chain", "chain.yaml", params());
        var run = fx.runToEnd(key);
        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(task(run, "root/b").path("inputs").path("prev").asText()).isEqualTo("a after none");
        assertThat(task(run, "root/c").path("outputs").path("parameters").path("Output").asText()).isEqualTo("c after b after a after none");
        assertThat(run.status().field("outputs").orElseThrow().path("parameters").path("Output").asText()).isEqualTo("c after b after a after none");
        assertThat(task(run, "root/a").path("image").asText()).isEqualTo("alpine:3");
        assertThat(task(run, "root/a").path("workloadId").asText()).startsWith("pr_" + run.metadata().uid() + "_").endsWith("_1");

        assertThat(fx.reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(fx.reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(fx.store.get(key).metadata().resourceVersion()).isEqualTo(run.metadata().resourceVersion());
        assertThat(fx.count("a") + fx.count("b") + fx.count("c")).isEqualTo(3);
    }

    @Test
    void namesTheRunOfItsWorkloadsWhileRunningAndForgetsItAtTheEnd() {
        var key = fx.submit("owner", "chain.yaml", params());
        var first = fx.reconciler.reconcile(key);
        assertThat(first.requeueAfter()).isPresent();
        var workload = task(fx.store.get(key), "root/a").path("workloadId").asText();

        assertThat(fx.reconciler.findRun(workload)).contains(key);
        assertThat(fx.reconciler.findRun("job-something-else")).isEmpty();

        fx.runToEnd(key);
        assertThat(fx.reconciler.findRun(workload)).isEmpty();
    }

    @Test
    void passesArtifactsBetweenTasksAsFilesUnderTheRunFolder() {
        var run = fx.runToEnd(fx.submit("arts", "artifacts.yaml", Map.of()));
        assertThat(run.status().phase()).isEqualTo("Succeeded");
        var artifact = task(run, "root/write").path("outputs").path("artifacts").path("data").get(0);
        assertThat(artifact.path("uri").asText()).startsWith("file://" + dir.resolve("runs"));
        assertThat(artifact.path("type").path("schemaTitle").asText()).isEqualTo("system.Dataset");
        assertThat(task(run, "root/read").path("inputArtifacts").path("data").get(0).path("uri").asText()).isEqualTo(artifact.path("uri").asText());
        assertThat(task(run, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42");
    }

    @Test
    void takesTheBranchWhoseConditionHoldsAndSkipsTheOther() throws IOException {
        var run = fx.runToEnd(fx.submit("flip", "condition.yaml", params()));
        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(state(run, "root/condition-1")).isEqualTo("SUCCEEDED");
        assertThat(state(run, "root/condition-1/say-heads")).isEqualTo("SUCCEEDED");
        assertThat(state(run, "root/condition-2")).isEqualTo("SKIPPED");
        assertThat(Files.readString(dir.resolve("said")).strip()).isEqualTo("heads");
    }

    @Test
    void parallelForRunsEveryItemWithinTheParallelismLimitAndFansIn() throws IOException {
        var run = fx.runToEnd(fx.submit("loop", "loop.yaml", params()));
        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(state(run, "root/for-loop-1[3]/square")).isEqualTo("SUCCEEDED");
        assertThat(task(run, "root/collect").path("inputs").path("values").toString()).isEqualTo("[1,4,9,16]");
        assertThat(task(run, "root/for-loop-1").path("outputs").path("parameters").path("pipelinechannel--square-Output").toString()).isEqualTo("[1,4,9,16]");

        var events = new ArrayList<long[]>();
        for (int x = 1; x <= 4; x++) {
            for (var line : Files.readAllLines(dir.resolve("times-" + x))) {
                var parts = line.split(" ");
                events.add(new long[] {Long.parseLong(parts[1]), parts[0].equals("start") ? 1 : -1});
            }
        }
        events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int running = 0;
        int max = 0;
        for (var e : events) {
            running += (int) e[1];
            max = Math.max(max, running);
        }
        assertThat(max).isBetween(1, 2);
    }

    @Test
    void exitHandlerRunsAfterAFailureAndReceivesTheFailedStatus() throws IOException {
        var run = fx.runToEnd(fx.submit("exit", "exit_handler.yaml", params()));
        assertThat(run.status().phase()).isEqualTo("Failed");
        assertThat(state(run, "root/exit-handler-1/fail")).isEqualTo("FAILED");
        assertThat(task(run, "root/exit-handler-1/fail").path("message").asText()).contains("exited with code 3");
        assertThat(state(run, "root/notify")).isEqualTo("SUCCEEDED");
        var status = io.capstan.core.Json.json().readTree(Files.readString(dir.resolve("status.json")));
        assertThat(status.path("state").asText()).isEqualTo("FAILED");
        assertThat(status.path("pipelineTaskName").asText()).isEqualTo("exit-handler-1");
        assertThat(status.path("error").path("message").asText()).contains("exited with code 3");
    }

    @Test
    void retriesAFailedStepAndSucceedsOnTheSecondAttempt() {
        var run = fx.runToEnd(fx.submit("flaky", "retry.yaml", params()));
        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(task(run, "root/flaky").path("attempts").asInt()).isEqualTo(2);
        assertThat(task(run, "root/flaky").path("workloadId").asText()).endsWith("_2");
        assertThat(fx.count("attempts")).isEqualTo(2);
    }

    @Test
    void aSecondIdenticalRunIsServedFromTheCacheWithoutRunningAnyStep() {
        fx.runToEnd(fx.submit("first", "chain.yaml", params()));
        var second = fx.runToEnd(fx.submit("second", "chain.yaml", params()));
        assertThat(second.status().phase()).isEqualTo("Succeeded");
        for (var t : List.of("a", "b", "c")) {
            assertThat(state(second, "root/" + t)).as(t).isEqualTo("CACHED");
            assertThat(fx.count(t)).as("runs of " + t).isEqualTo(1);
        }
        assertThat(second.status().field("outputs").orElseThrow().path("parameters").path("Output").asText()).isEqualTo("c after b after a after none");

        var spec = RunFixture.specOf(RunFixture.resource("runs/chain.yaml"), params());
        spec.set("enableCaching", BooleanNode.FALSE);
        var third = fx.runToEnd(fx.submit("third", spec));
        assertThat(state(third, "root/a")).isEqualTo("SUCCEEDED");
        assertThat(fx.count("a")).isEqualTo(2);
    }

    @Test
    void afterACrashMidRunTheRunFinishesAndNoSucceededStepRunsTwice() {
        var key = fx.submit("crash", "chain.yaml", Map.of("dir", dir.toString(), "sleep_b", "1"));
        fx.runUntil(key, r -> r.status().field("tasks").map(t -> t.path("root/b").path("state").asText().equals("RUNNING")).orElse(false));
        assertThat(state(fx.store.get(key), "root/a")).isEqualTo("SUCCEEDED");

        fx.restart();
        var run = fx.runToEnd(key);
        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(fx.count("a")).isEqualTo(1);
        assertThat(fx.count("b")).isEqualTo(1);
        assertThat(fx.count("c")).isEqualTo(1);
        assertThat(task(run, "root/b").path("attempts").asInt()).isEqualTo(1);
    }

    @Test
    void recordsTheRunAsAContextWithEachTaskExecutionAndItsArtifactEvents() {
        var spec = RunFixture.specOf(RunFixture.resource("runs/artifacts.yaml"), Map.of());
        spec.put("experiment", "exp-1");
        var run = fx.runToEnd(fx.submit("lineage", spec));
        var context = fx.metadata.findContext(RunLineage.RUN_CONTEXT, run.metadata().uid()).orElseThrow();
        assertThat(fx.metadata.parentContexts(context.id())).extracting(c -> c.name()).containsExactly("exp-1");
        var executions = fx.metadata.executionsByContext(context.id());
        assertThat(executions).extracting(x -> ((PropertyValue.StringValue) x.properties().get("task_name")).value())
                .containsExactlyInAnyOrder("write", "read");
        var write = executions.stream().filter(x -> x.name().endsWith("/root/write")).findFirst().orElseThrow();
        var read = executions.stream().filter(x -> x.name().endsWith("/root/read")).findFirst().orElseThrow();
        var written = fx.metadata.eventsByExecution(write.id());
        assertThat(written).extracting(e -> e.type()).containsExactly(EventType.OUTPUT);
        assertThat(fx.metadata.eventsByExecution(read.id())).extracting(e -> e.type()).containsExactly(EventType.INPUT);
        assertThat(fx.metadata.eventsByExecution(read.id()).getFirst().artifactId()).isEqualTo(written.getFirst().artifactId());
        assertThat(((PropertyValue.StringValue) write.properties().get("image")).value()).isEqualTo("alpine:3");
    }

    @Test
    void cancellingARunKillsItsRunningStep() {
        var key = fx.submit("cancel", "chain.yaml", Map.of("dir", dir.toString(), "sleep_b", "30"));
        var running = fx.runUntil(key, r -> r.status().field("tasks").map(t -> t.path("root/b").path("state").asText().equals("RUNNING")).orElse(false));
        var workload = task(running, "root/b").path("workloadId").asText();
        var spec = running.spec().deepCopy();
        spec.put("cancelled", true);
        fx.store.update(running.withSpec(spec));
        var run = fx.runToEnd(key);
        assertThat(run.status().phase()).isEqualTo("Cancelled");
        assertThat(state(run, "root/b")).isEqualTo("CANCELLED");
        assertThat(state(run, "root/c")).isEqualTo("CANCELLED");
        io.capstan.store.testing.StoreWaits.until(fx.store, java.time.Duration.ofSeconds(10), "b's process to stop",
                () -> fx.backend.find(workload).orElseThrow().phase().isTerminal());
    }

    @Test
    void theKindsValidatorNamesTheBadFieldInsideThePipelineSpec() {
        var text = RunFixture.resource("runs/chain.yaml").replace("producerTask: a,", "producerTask: nope,");
        var problems = new Problems();
        PipelineRuns.RESOURCE_KIND.validator().validate(RunFixture.specOf(text, Map.of()), problems);
        assertThat(problems.errors()).isNotEmpty();
        assertThat(problems.errors()).allSatisfy(e -> assertThat(e.path()).startsWith("spec.pipelineSpec"));
        assertThat(problems.errors().toString()).contains("nope");
    }
}
