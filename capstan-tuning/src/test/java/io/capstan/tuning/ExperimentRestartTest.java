package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Resource;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server dies mid-experiment, with trials finished, running and not yet created; a new server on the same H2
 * file database and workload folder carries on. Trials write to a ledger, so a re-run would show.
 */
class ExperimentRestartTest {
    @TempDir
    Path dir;

    @Test
    void resumesAfterACrashWithoutLosingOrRerunningAnyTrial() throws Exception {
        var ledger = dir.resolve("ledger.txt");
        var yaml = anExperiment("resume")
                .withAlgorithm("algorithmName: random\n    algorithmSettings: [{name: random_state, value: '11'}]")
                .withCommand("echo start $CAPSTAN_TRIAL_NAME >> " + ledger + "; sleep 1; echo loss=${trialParameters.x};"
                        + " echo end $CAPSTAN_TRIAL_NAME >> " + ledger)
                .withBudget(2, 6, 0).build();

        var first = new TuningHarness(TestDatabases.h2File(dir.resolve("db")), dir, SearchCatalog.KATIB, "");
        var key = first.apply(yaml);
        var midway = first.reconcileUntil(key, Duration.ofSeconds(90), r -> r.status().field("trialsSucceeded").map(n -> n.asInt() >= 2).orElse(false)
                && r.status().field("trialsRunning").map(n -> n.asInt() + r.status().field("trialsPending").orElseThrow().asInt() >= 1).orElse(false));
        Map<String, String> finishedBefore = first.trials(key).stream().filter(t -> t.status().phase().equals("Succeeded"))
                .collect(Collectors.toMap(t -> t.metadata().name(), t -> t.status().field("completionTime").orElseThrow().asText()));
        assertThat(midway.status().phase()).isEqualTo("Running");
        first.crash();

        try (var second = new TuningHarness(TestDatabases.h2File(dir.resolve("db")), dir, SearchCatalog.KATIB, "")) {
            var done = second.reconcileUntilDone(key);
            assertThat(done.status().phase()).isEqualTo("Succeeded");
            assertThat(done.status().field("trialsSucceeded").orElseThrow().asInt()).isEqualTo(6);
            var trials = second.trials(key);
            assertThat(trials).hasSize(6).allSatisfy(t -> assertThat(t.status().phase()).isEqualTo("Succeeded"));
            for (var t : trials) {
                if (finishedBefore.containsKey(t.metadata().name())) {
                    assertThat(t.status().field("completionTime").orElseThrow().asText()).isEqualTo(finishedBefore.get(t.metadata().name()));
                }
            }
            var lines = Files.readAllLines(ledger);
            for (Resource t : trials) {
                assertThat(lines).as("ledger of %s", t.metadata().name()).containsOnlyOnce("start " + t.metadata().name(), "end " + t.metadata().name());
            }
            var assignments = trials.stream().map(t -> TrialSpec.of(t.spec()).assignment()).distinct().count();
            assertThat(assignments).isEqualTo(6);
        }
    }
}
