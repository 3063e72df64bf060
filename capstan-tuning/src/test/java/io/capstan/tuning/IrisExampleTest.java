package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.store.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** examples/tuning end to end: Katib YAML in, real scikit-learn trials on the shipped iris data, the best SVM out. */
class IrisExampleTest {
    static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    static final Path EXAMPLE = REPO.resolve("examples/tuning/iris-experiment.yaml");

    @TempDir
    Path dir;

    @Test
    void tunesAnSvmOnIrisOffline() throws Exception {
        Assumptions.assumeTrue(sklearnAvailable(), "/usr/bin/python3 cannot import sklearn; install python3-sklearn");
        var yaml = Files.readString(EXAMPLE)
                .replace("workingDir: \".\"", "workingDir: \"" + REPO + "\"")
                .replace("maxTrialCount: 12", "maxTrialCount: 4");
        try (var h = new TuningHarness(TestDatabases.h2(), dir, SearchCatalog.KATIB, "")) {
            var key = h.apply(yaml);
            var done = h.reconcileUntil(key, Duration.ofSeconds(150), r -> false);

            assertThat(done.status().phase()).isEqualTo("Succeeded");
            assertThat(done.status().condition("Succeeded").orElseThrow().reason()).isIn("ExperimentMaxTrialsReached", "ExperimentGoalReached");
            var trials = h.trials(key);
            assertThat(trials).isNotEmpty().allSatisfy(t -> assertThat(t.status().phase()).as(t.status().toString()).isEqualTo("Succeeded"));
            var best = done.status().field("currentOptimalTrial").orElseThrow();
            assertThat(best.path("observation").path("metrics").get(0).path("max").asDouble()).isGreaterThan(0.8);
            var table = TrialTable.render(done, trials, TrialTable.Order.OBJECTIVE);
            System.out.print(table + TrialTable.bestSoFar(done) + "\n");
            assertThat(table.lines().skip(1).findFirst().orElseThrow()).startsWith(best.path("bestTrialName").asText() + " ");
        }
    }

    private static boolean sklearnAvailable() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/python3"))) return false;
        var p = new ProcessBuilder("/usr/bin/python3", "-c", "import sklearn").redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return false;
        }
        return p.exitValue() == 0;
    }
}
