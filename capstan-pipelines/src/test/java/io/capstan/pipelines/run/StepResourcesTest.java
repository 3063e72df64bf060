package io.capstan.pipelines.run;

import static io.capstan.pipelines.run.RunFixture.state;
import static io.capstan.pipelines.run.RunFixture.task;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Step resources go through the local backend's admission: real child processes on a machine of a chosen size. */
class StepResourcesTest {
    @TempDir
    Path dir;
    RunFixture fx;

    /** One start-to-end interval of one loop iteration, with the CUDA_VISIBLE_DEVICES it saw. */
    private record Span(int item, long start, long end, String gpus) {
    }

    private void machine(double cpus, long memoryBytes, List<Integer> gpus) {
        fx = new RunFixture(dir, StepCommandRewriter.IDENTITY,
                o -> o.withCapacity(cpus, memoryBytes).withGpuDetector(GpuDetector.fixed(gpus)));
    }

    @AfterEach
    void tearDown() {
        if (fx != null) fx.close();
    }

    @Test
    void aParallelForWhoseStepsEachAskForTheWholeMachineRunsThemOneAtATime() throws IOException {
        machine(2, 8L << 30, List.of());

        var run = fx.runToEnd(fx.submit("whole", "resources.yaml", Map.of("dir", dir.toString(), "cpus", "2")));

        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(maxOverlap(spans())).as("iterations running at the same time").isEqualTo(1);
    }

    @Test
    void eachStepThatAsksForAGpuGetsOneOfItsOwn() throws IOException {
        machine(4, 8L << 30, List.of(0, 1));

        var run = fx.runToEnd(fx.submit("gpus", "resources.yaml", Map.of("dir", dir.toString(), "gpus", "1")));

        assertThat(run.status().phase()).isEqualTo("Succeeded");
        var spans = spans();
        assertThat(spans).hasSize(3).allSatisfy(s -> assertThat(s.gpus()).isIn("0", "1"));
        for (var a : spans) {
            for (var b : spans) {
                if (a.item() < b.item() && a.start() < b.end() && b.start() < a.end()) {
                    assertThat(a.gpus()).as("items %d and %d ran together", a.item(), b.item()).isNotEqualTo(b.gpus());
                }
            }
        }
        assertThat(maxOverlap(spans)).isBetween(1, 2);
    }

    @Test
    void aRequestBeyondTheMachineFailsTheRunAtOnceNamingTheTaskAndTheField() {
        machine(2, 1L << 30, List.of(0));
        var cases = Map.of(
                "cpus", List.of("64", "resources.resourceCpuLimit '64'", "64 CPUs", "has 2 CPUs"),
                "memory", List.of("2Gi", "resources.resourceMemoryLimit '2Gi'", "2147483648 bytes", "has 1073741824 bytes"),
                "gpus", List.of("3", "resources.accelerator.resourceCount '3'", "3 GPUs", "has 1 GPUs"),
                "bad", List.of("lots", "resources.resourceCpuLimit", "'lots' is not a quantity"));
        int i = 0;
        for (var c : cases.entrySet()) {
            var field = c.getKey().equals("bad") ? "cpus" : c.getKey();
            var expected = c.getValue();
            var key = fx.submit("over-" + i++, RunFixture.specOf(RunFixture.resource("runs/resources.yaml"),
                    Map.of("dir", dir.toString(), field, expected.getFirst())));

            fx.reconciler.reconcile(key);

            var run = fx.store.get(key);
            assertThat(run.status().phase()).as(c.getKey()).isEqualTo("Failed");
            assertThat(state(run, "root/for-loop-1[0]/hog")).as(c.getKey()).isEqualTo("FAILED");
            var message = task(run, "root/for-loop-1[0]/hog").path("message").asText();
            assertThat(message).as(c.getKey()).contains("task root/for-loop-1[0]/hog");
            for (var part : expected.subList(1, expected.size())) assertThat(message).as(c.getKey()).contains(part);
        }
        assertThat(fx.backend.list()).as("nothing launched or queued").isEmpty();
    }

    private List<Span> spans() throws IOException {
        var spans = new ArrayList<Span>();
        for (int x = 1; x <= 3; x++) {
            var lines = Files.readAllLines(dir.resolve("times-" + x));
            assertThat(lines).as("item " + x).hasSize(2);
            var start = lines.get(0).split(" ");
            var end = lines.get(1).split(" ");
            assertThat(end[2]).as("item %d kept its GPUs", x).isEqualTo(start[2]);
            spans.add(new Span(x, Long.parseLong(start[1]), Long.parseLong(end[1]), start[2].substring("gpus=".length())));
        }
        return spans;
    }

    private static int maxOverlap(List<Span> spans) {
        var events = new ArrayList<long[]>();
        for (var s : spans) {
            events.add(new long[] {s.start(), 1});
            events.add(new long[] {s.end(), -1});
        }
        events.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        int running = 0;
        int max = 0;
        for (var e : events) {
            running += (int) e[1];
            max = Math.max(max, running);
        }
        return max;
    }
}
