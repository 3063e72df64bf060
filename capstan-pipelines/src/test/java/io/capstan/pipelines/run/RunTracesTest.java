package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.core.security.WorkloadCredentials;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run traced into the SDK's in-memory exporter: real child processes, which report the TRACEPARENT they were given. */
class RunTracesTest {
    /** Two steps, each writing the TRACEPARENT it finds (and printing it) to its output parameter. */
    private static final String PIPELINE = """
            pipelineInfo: {name: traced}
            schemaVersion: 2.1.0
            sdkVersion: kfp-2.13.0
            components:
              comp-tell:
                executorLabel: exec-tell
                inputDefinitions:
                  parameters:
                    word: {parameterType: STRING}
                outputDefinitions:
                  parameters:
                    Output: {parameterType: STRING}
            deploymentSpec:
              executors:
                exec-tell:
                  container:
                    image: alpine:3
                    command: [sh, -c, 'echo "$TRACEPARENT"; printf %s "$TRACEPARENT" > "$0"', "{{$.outputs.parameters['Output'].output_file}}"]
            root:
              dag:
                tasks:
                  first:
                    taskInfo: {name: first}
                    componentRef: {name: comp-tell}
                    cachingOptions: {enableCache: true}
                    inputs: {parameters: {word: {runtimeValue: {constant: one}}}}
                  second:
                    taskInfo: {name: second}
                    componentRef: {name: comp-tell}
                    dependentTasks: [first]
                    cachingOptions: {enableCache: true}
                    inputs: {parameters: {word: {runtimeValue: {constant: two}}}}
            """;

    @TempDir
    Path dir;
    RunFixture fx;
    InMemorySpanExporter exported;
    SdkTracerProvider provider;

    @BeforeEach
    void setUp() {
        fx = new RunFixture(dir);
        exported = InMemorySpanExporter.create();
        provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build();
        fx.reconciler = new PipelineRunReconciler(fx.store, fx.backend, fx.metadata, dir.resolve("runs"), Clock.systemUTC(),
                StepCommandRewriter.IDENTITY, ArtifactLocator.of(new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC())),
                WorkloadCredentials.none(), () -> "", provider.get("test"));
    }

    @AfterEach
    void tearDown() {
        provider.close();
        fx.close();
    }

    @Test
    void aRunIsOneTraceWithASpanPerStepWhoseContextTheStepProcessSees() {
        var key = fx.submit("traced", RunFixture.specOf(PIPELINE, Map.of()));
        var run = fx.runToEnd(key);
        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");

        var runSpan = only(RunTraces.RUN_SPAN);
        assertThat(runSpan.getParentSpanContext().isValid()).as("the run's span is the trace's root").isFalse();
        assertThat(runSpan.getAttributes().get(RunTraces.RUN_ID)).isEqualTo(run.metadata().uid());
        assertThat(runSpan.getAttributes().get(RunTraces.PIPELINE)).isEqualTo("traced");
        assertThat(runSpan.getAttributes().get(RunTraces.RUN_STATE)).isEqualTo("Succeeded");
        var tasks = named(RunTraces.TASK_SPAN);
        assertThat(tasks).extracting(s -> s.getAttributes().get(RunTraces.TASK_NAME)).containsExactlyInAnyOrder("first", "second");
        for (var task : tasks) {
            var name = task.getAttributes().get(RunTraces.TASK_NAME);
            assertThat(task.getTraceId()).isEqualTo(runSpan.getTraceId());
            assertThat(task.getParentSpanId()).isEqualTo(runSpan.getSpanId());
            assertThat(task.getAttributes().get(RunTraces.ATTEMPT)).isEqualTo(1L);
            assertThat(task.getAttributes().get(RunTraces.CACHED)).isFalse();
            assertThat(task.getAttributes().get(RunTraces.TASK_STATE)).isEqualTo("SUCCEEDED");
            // What the step's own process found in its environment: this span, in W3C form.
            var seen = RunFixture.task(run, "root/" + name).path("outputs").path("parameters").path("Output").asText();
            assertThat(seen).as("TRACEPARENT of step " + name).isEqualTo("00-" + task.getTraceId() + "-" + task.getSpanId() + "-" + task.getSpanContext().getTraceFlags().asHex());
        }
        assertThat(tasks.get(0).getSpanId()).isNotEqualTo(tasks.get(1).getSpanId());
        assertThat(runSpan.getEndEpochNanos()).isGreaterThanOrEqualTo(tasks.stream().mapToLong(SpanData::getEndEpochNanos).max().orElseThrow());
    }

    @Test
    void aStepServedFromTheCacheHasASpanThatSaysSo() {
        fx.runToEnd(fx.submit("first", RunFixture.specOf(PIPELINE, Map.of())));
        exported.reset();
        var again = fx.runToEnd(fx.submit("again", RunFixture.specOf(PIPELINE, Map.of())));
        assertThat(RunFixture.state(again, "root/first")).isEqualTo("CACHED");

        var runSpan = only(RunTraces.RUN_SPAN);
        var tasks = named(RunTraces.TASK_SPAN);
        assertThat(tasks).hasSize(2).allSatisfy(t -> {
            assertThat(t.getAttributes().get(RunTraces.CACHED)).isTrue();
            assertThat(t.getAttributes().get(RunTraces.TASK_STATE)).isEqualTo("CACHED");
            assertThat(t.getParentSpanId()).isEqualTo(runSpan.getSpanId());
        });
    }

    @Test
    void withTheNoOpTracerNoStepIsGivenATraceparent() {
        fx.reconciler = new PipelineRunReconciler(fx.store, fx.backend, fx.metadata, dir.resolve("runs"), Clock.systemUTC(),
                StepCommandRewriter.IDENTITY, ArtifactLocator.of(new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC())),
                WorkloadCredentials.none(), () -> "");
        var run = fx.runToEnd(fx.submit("untraced", RunFixture.specOf(PIPELINE, Map.of())));
        assertThat(RunFixture.task(run, "root/first").path("outputs").path("parameters").path("Output").asText()).isEmpty();
        assertThat(exported.getFinishedSpanItems()).isEmpty();
    }

    private SpanData only(String name) {
        var spans = named(name);
        assertThat(spans).as(name + " spans").hasSize(1);
        return spans.getFirst();
    }

    private List<SpanData> named(String name) {
        return exported.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
    }
}
