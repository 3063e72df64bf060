package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Katib Experiment whose trials execute a notebook with the trial's parameters injected. */
class NotebookTrialTest {
    static final Path EXAMPLES = Path.of("").toAbsolutePath().getParent().resolve("examples/notebooks");

    @TempDir
    Path home;

    @Test
    void eachTrialRunsTheNotebookAndReportsItsLoss() throws Exception {
        var yaml = Files.readString(EXAMPLES.resolve("notebook-experiment.yaml"))
                .replace("- examples/notebooks/", "- " + EXAMPLES + "/")
                .replace("workingDir: \".\"", "workingDir: \"" + home + "\"");
        try (var server = new TestServer(home)) {
            var applied = server.apply(yaml);
            assertThat(applied.status()).as(applied.body()).isEqualTo(200);
            var done = server.await("/apis/capstan/v1/namespaces/default/experiments/notebook-trials",
                    e -> e.path("status").path("phase").asText().matches("Succeeded|Failed"), Duration.ofSeconds(180));
            assertThat(done.path("status").path("phase").asText()).as(done.path("status").toString()).isEqualTo("Succeeded");
            assertThat(done.path("status").path("trialsSucceeded").asInt()).isEqualTo(2);
            var best = done.path("status").path("currentOptimalTrial");
            double x = best.path("parameterAssignments").get(0).path("value").asDouble();
            var loss = best.path("observation").path("metrics").get(0);
            assertThat(loss.path("name").asText()).isEqualTo("loss");
            // The notebook computed (x - 0.3)^2 with the trial's x, not its own default x = 0.
            assertThat(Double.parseDouble(loss.path("latest").asText())).isCloseTo((x - 0.3) * (x - 0.3), org.assertj.core.data.Offset.offset(1e-9));
        }
    }
}
