package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.store.testing.TestDatabases;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trials traced into the SDK's in-memory exporter; each trial is a real child process that reports its TRACEPARENT. */
class TrialSpansTest {
    @TempDir
    Path dir;
    TuningHarness h;
    final InMemorySpanExporter exported = InMemorySpanExporter.create();
    final SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build();

    @AfterEach
    void tearDown() {
        if (h != null) h.close();
        provider.close();
    }

    @Test
    void eachTrialIsASpanWithItsParametersPhaseAndMetricsWhoseContextTheTrialSees() throws Exception {
        h = new TuningHarness(TestDatabases.h2(), dir, new FixedCatalog("x", List.of("0.9", "0.5")), provider.get("test"));
        var key = h.apply(anExperiment("traced").withBudget(1, 2, 1)
                .withCommand("printf %s \"$TRACEPARENT\" > \"$CAPSTAN_TRIAL_DIR/traceparent\"; echo loss=${trialParameters.x}").build());
        var done = h.reconcileUntilDone(key);
        assertThat(done.status().phase()).as(done.status().toString()).isEqualTo("Succeeded");

        var spans = exported.getFinishedSpanItems().stream().filter(s -> s.getName().equals(TrialSpans.SPAN)).toList();
        assertThat(spans).hasSize(2);
        for (var trial : h.trials(key)) {
            var span = spans.stream().filter(s -> trial.metadata().name().equals(s.getAttributes().get(TrialSpans.TRIAL))).findFirst().orElseThrow();
            var x = span.getAttributes().get(AttributeKey.stringKey(TrialSpans.PARAMETER_PREFIX + "x"));
            assertThat(x).isIn("0.9", "0.5");
            assertThat(span.getAttributes().get(TrialSpans.EXPERIMENT)).isEqualTo("traced");
            assertThat(span.getAttributes().get(TrialSpans.PHASE)).isEqualTo("Succeeded");
            assertThat(span.getAttributes().get(AttributeKey.doubleKey(TrialSpans.METRIC_PREFIX + "loss"))).isEqualTo(Double.parseDouble(x));
            var seen = Files.readString(dir.resolve("tuning/default/traced").resolve(trial.metadata().name()).resolve("traceparent"));
            assertThat(seen).as("TRACEPARENT of " + trial.metadata().name())
                    .isEqualTo("00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getSpanContext().getTraceFlags().asHex());
        }
    }
}
