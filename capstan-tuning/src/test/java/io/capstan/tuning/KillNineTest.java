package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.ResourceKey;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a server mid-experiment: a child JVM runs the controller runtime on an H2 file database and is
 * killed with SIGKILL while trials run; a new server on the same files finishes the experiment. Trials write a ledger,
 * so a lost or re-run trial would show.
 */
class KillNineTest {
    @TempDir
    Path dir;

    @Test
    void resumesAfterSigkillWithoutLosingOrRerunningATrial() throws Exception {
        var ledger = dir.resolve("ledger.txt");
        var yamlFile = dir.resolve("experiment.yaml");
        Files.writeString(yamlFile, anExperiment("k9")
                .withAlgorithm("algorithmName: random\n    algorithmSettings: [{name: random_state, value: '5'}]")
                .withCommand("echo start $CAPSTAN_TRIAL_NAME >> " + ledger + "; sleep 1.5; echo loss=${trialParameters.x};"
                        + " echo end $CAPSTAN_TRIAL_NAME >> " + ledger)
                .withBudget(2, 6, 0).build());
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), TuningServerProcess.class.getName(),
                dir.toString(), yamlFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
        try {
            waitForLedger(ledger, lines -> count(lines, "end ") >= 2 && count(lines, "start ") > count(lines, "end "), child);
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        var before = Files.readAllLines(ledger);

        try (var h = new TuningHarness(TestDatabases.h2File(dir.resolve("db")), dir, SearchCatalog.KATIB, "")) {
            var key = new ResourceKey(Experiments.EXPERIMENT, "default", "k9");
            var done = h.reconcileUntil(key, Duration.ofSeconds(120), r -> false);
            assertThat(done.status().phase()).isEqualTo("Succeeded");
            var trials = h.trials(key);
            assertThat(trials).hasSize(6).allSatisfy(t -> assertThat(t.status().phase()).isEqualTo("Succeeded"));
            var lines = Files.readAllLines(ledger);
            for (var t : trials) {
                var name = t.metadata().name();
                assertThat(lines).as("ledger %s", lines).containsOnlyOnce("start " + name, "end " + name);
            }
            assertThat(before).as("trials that ran before the kill are among the six").allSatisfy(l ->
                    assertThat(trials.stream().map(t -> t.metadata().name())).contains(l.substring(l.indexOf(' ') + 1)));
        }
    }

    private static long count(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).count();
    }

    private void waitForLedger(Path ledger, java.util.function.Predicate<List<String>> ready, Process child) throws IOException {
        var deadline = Instant.now().plusSeconds(120);
        while (Instant.now().isBefore(deadline)) {
            if (!child.isAlive()) throw new AssertionError("the server process died: " + Files.readString(dir.resolve("server.log")));
            if (Files.exists(ledger) && ready.test(Files.readAllLines(ledger))) return;
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError("trials did not reach the kill point in 120 s; server log: " + Files.readString(dir.resolve("server.log")));
    }
}
