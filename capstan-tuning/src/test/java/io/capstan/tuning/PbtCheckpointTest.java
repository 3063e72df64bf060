package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Resource;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Katib's pbt with real trial processes: each trial has its own checkpoint folder and starts from its parent's. */
class PbtCheckpointTest {
    private static final String PARENT = "pbt.suggestion.katib.kubeflow.org/parent";
    private static final String GENERATION = "pbt.suggestion.katib.kubeflow.org/generation";

    @TempDir
    Path dir;
    TuningHarness h;

    @AfterEach
    void tearDown() {
        if (h != null) h.close();
    }

    private String log(Resource trial) {
        return h.backend.tail(Experiments.workloadId(trial.metadata().uid()), 100).stream().map(l -> l.text()).collect(Collectors.joining("\n"));
    }

    @Test
    void aChildTrialResumesFromTheCheckpointItsParentWroteInItsOwnFolder() throws IOException {
        h = new TuningHarness(TestDatabases.h2(), dir, SearchCatalog.KATIB, "");
        // Katib's simple-pbt form: the template names suggestion_trial_dir; the program reads the checkpoint there, if
        // any, then writes its own.
        var key = h.apply(anExperiment("pbt").withAlgorithm("""
                        algorithmName: pbt
                            algorithmSettings:
                              - {name: suggestion_trial_dir, value: /var/log/katib/checkpoints/}
                              - {name: n_population, value: '5'}
                              - {name: truncation_threshold, value: '0.2'}
                              - {name: random_state, value: '3'}""")
                .withBudget(5, 10, 0)
                .withCommand("c=/var/log/katib/checkpoints; echo \"resumed-from: $(cat $c/model.ckpt 2>/dev/null || echo none)\";"
                        + " echo \"$KATIB_TRIAL_NAME\" > $c/model.ckpt && echo loss=${trialParameters.x}")
                .build());

        var done = h.reconcileUntilDone(key);

        assertThat(done.status().phase()).as(done.status().toString()).isEqualTo("Succeeded");
        var trials = h.trials(key);
        assertThat(trials).hasSize(10).allSatisfy(t -> assertThat(t.status().phase()).isEqualTo("Succeeded"));
        var folders = new HashMap<String, Path>();
        for (var t : trials) {
            var labels = TrialSpec.of(t.spec()).suggestionLabels();
            var folder = dir.resolve("tuning").resolve("default").resolve("pbt").resolve(t.metadata().name()).resolve("checkpoint");
            folders.put(t.metadata().name(), folder);
            assertThat(folder.resolve("model.ckpt")).as("each trial writes its own checkpoint").hasContent(t.metadata().name());
            if (labels.get(GENERATION).equals("0")) {
                assertThat(labels).doesNotContainKey(PARENT);
                assertThat(log(t)).contains("resumed-from: none");
            } else {
                assertThat(labels).containsKey(PARENT);
                assertThat(log(t)).as(t.metadata().name() + " resumes from its parent's checkpoint").contains("resumed-from: " + labels.get(PARENT));
            }
        }
        assertThat(folders.values().stream().distinct()).hasSize(10);
        assertThat(Files.exists(Path.of("/var/log/katib/checkpoints/model.ckpt"))).as("nothing is written at the template's path").isFalse();
    }
}
