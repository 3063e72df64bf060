package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same controller on PostgreSQL (skipped outside CI without {@code -Dcapstan.test.pg.url}). */
class PostgresExperimentTest {
    @TempDir
    Path dir;

    @Test
    void runsAnExperimentToItsGoalOnPostgres() {
        try (var h = new TuningHarness(TestDatabases.postgres(), dir, new FixedCatalog("x", List.of("0.8", "0.05", "0.6")), "")) {
            var key = h.apply(anExperiment("pg").withObjective("type: minimize\n    goal: 0.1\n    objectiveMetricName: loss").withBudget(1, 5, 0).build());
            var done = h.reconcileUntilDone(key);
            assertThat(done.status().condition("Succeeded").orElseThrow().reason()).isEqualTo("ExperimentGoalReached");
            assertThat(done.status().field("currentOptimalTrial").orElseThrow().path("bestTrialName").asText()).isEqualTo("pg-2");
            assertThat(h.trials(key)).hasSize(2);
        }
    }
}
