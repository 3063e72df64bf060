package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training jobs traced into the SDK's in-memory exporter; every rank is a real process that reports its TRACEPARENT. */
class JobSpansTest {
    @TempDir
    Path dir;
    Testbed bed;
    final InMemorySpanExporter exported = InMemorySpanExporter.create();
    final SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build();

    @AfterEach
    void tearDown() {
        if (bed != null) bed.close();
        provider.close();
    }

    @Test
    void aJobIsOneSpanWhoseContextEveryRankSeesAndAFailedJobsSpanSaysWhy() throws Exception {
        bed = Testbed.traced(dir, provider.get("test"));
        var job = bed.runToEnd(bed.apply(TrainingLifecycleTest.pytorchJob("traced", 1,
                "printf %s \"$TRACEPARENT\" > " + dir + "/tp-$RANK", "")));
        assertThat(job.status().phase()).as(job.status().toString()).isEqualTo("Succeeded");
        var span = exported.getFinishedSpanItems().stream().filter(s -> s.getName().equals(JobSpans.SPAN)).findFirst().orElseThrow();
        assertThat(span.getAttributes().get(JobSpans.KIND)).isEqualTo("PyTorchJob");
        assertThat(span.getAttributes().get(JobSpans.NAME)).isEqualTo("traced");
        assertThat(span.getAttributes().get(JobSpans.PHASE)).isEqualTo("Succeeded");
        var expected = "00-" + span.getTraceId() + "-" + span.getSpanId() + "-" + span.getSpanContext().getTraceFlags().asHex();
        assertThat(Files.readString(dir.resolve("tp-0"))).isEqualTo(expected);
        assertThat(Files.readString(dir.resolve("tp-1"))).isEqualTo(expected);

        exported.reset();
        var failed = bed.runToEnd(bed.apply(TrainingLifecycleTest.pytorchJob("flaky", 1, "exit 7", "  runPolicy: {backoffLimit: 1}")));
        assertThat(failed.status().phase()).isEqualTo("Failed");
        assertThat(exported.getFinishedSpanItems()).singleElement().satisfies(s -> {
            assertThat(s.getAttributes().get(JobSpans.PHASE)).isEqualTo("Failed");
            assertThat(s.getAttributes().get(JobSpans.RESTARTS)).isEqualTo(1L);
            assertThat(s.getAttributes().get(JobSpans.REASON)).isEqualTo("BackoffLimitExceeded");
            assertThat(s.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
            assertThat(s.getStatus().getDescription()).contains("exited with code 7");
        });
    }
}
