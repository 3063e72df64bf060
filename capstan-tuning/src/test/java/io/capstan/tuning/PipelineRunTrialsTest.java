package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.ResourceKey;
import io.capstan.metadata.MetadataStore;
import io.capstan.pipelines.run.PipelineRunReconciler;
import io.capstan.pipelines.run.PipelineRuns;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trials whose trialSpec is a Capstan PipelineRun, run by the real pipeline controller: each trial is a two-step
 * KFP pipeline whose second step prints the objective computed from the trial's parameter.
 */
class PipelineRunTrialsTest {
    @TempDir
    Path dir;
    RuntimeTestbed bed;

    @BeforeEach
    void start() {
        bed = new RuntimeTestbed(dir, PipelineRuns.KIND, List.of(PipelineRuns.RESOURCE_KIND), b -> {
            b.db.migrate("metadata");
            return List.of(new PipelineRunReconciler(b.store, b.backend, new MetadataStore(b.db, Clock.systemUTC()), dir.resolve("runs"), Clock.systemUTC()));
        });
    }

    @AfterEach
    void stop() {
        if (bed != null) bed.close();
    }

    /** Steps prepare (a decoy loss) then train (loss = the learning rate); {@code labels} may name the primary task. */
    private static String experiment(String name, String trainCommand, String labels) {
        return """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: %s}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm: {algorithmName: random}
                  parallelTrialCount: 2
                  maxTrialCount: 2
                  maxFailedTrialCount: 0
                  parameters:
                    - {name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryPodLabels: {%s}
                    trialParameters:
                      - {name: learningRate, reference: lr}
                    trialSpec:
                      apiVersion: pipelines.capstan.io/v1
                      kind: PipelineRun
                      spec:
                        pipelineSpec:
                          pipelineInfo: {name: tune-me}
                          schemaVersion: 2.1.0
                          sdkVersion: kfp-2.14.6
                          components:
                            comp-prepare: {executorLabel: exec-prepare}
                            comp-train: {executorLabel: exec-train}
                          deploymentSpec:
                            executors:
                              exec-prepare:
                                container: {image: alpine:3, command: [sh, -c, 'echo loss=99.5']}
                              exec-train:
                                container: {image: alpine:3, command: [sh, -c, '%s']}
                          root:
                            dag:
                              tasks:
                                prepare:
                                  componentRef: {name: comp-prepare}
                                  taskInfo: {name: prepare}
                                train:
                                  componentRef: {name: comp-train}
                                  dependentTasks: [prepare]
                                  taskInfo: {name: train}
                """.formatted(name, labels, trainCommand);
    }

    @Test
    void runsPipelineRunTrialsAndReadsTheLastStepsLog() {
        var key = bed.apply(experiment("pipe", "echo trial=$CAPSTAN_TRIAL_NAME; echo loss=${trialParameters.learningRate}", ""));
        var done = bed.await(key, RuntimeTestbed::finished, "finished");

        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        assertThat(done.status().field("trialsSucceeded").orElseThrow().asInt()).isEqualTo(2);
        var trials = bed.trials("pipe");
        assertThat(trials).hasSize(2);
        for (var t : trials) {
            assertThat(t.status().phase()).as("trial %s: %s", t.metadata().name(), t.status()).isEqualTo("Succeeded");
            var lr = Double.parseDouble(TrialSpec.of(t.spec()).assignment().get("lr"));
            // The train step's line, not the prepare step's decoy 99.5.
            assertThat(TrialRunner.observationsOf(t)).singleElement().satisfies(o -> {
                assertThat(o.metric()).isEqualTo("loss");
                assertThat(o.value()).isEqualTo(lr);
            });
            var run = bed.store.get(new ResourceKey(PipelineRuns.KIND, "default", t.metadata().name()));
            assertThat(run.status().phase()).isEqualTo("Succeeded");
            assertThat(run.metadata().labels()).containsEntry(Experiments.EXPERIMENT_LABEL, "pipe").containsEntry(TrialJobs.TRIAL_LABEL, t.metadata().name());
            assertThat(run.metadata().ownerReferences()).singleElement().satisfies(o -> assertThat(o.uid()).isEqualTo(t.metadata().uid()));
            // The trial's variables reach every step.
            var trainLog = bed.backend.tail(run.status().field("tasks").orElseThrow().path("root/train").path("workloadId").asText(), 10);
            assertThat(trainLog.getFirst().text()).isEqualTo("trial=" + t.metadata().name());
        }
        assertThat(done.status().field("currentOptimalTrial").orElseThrow().path("bestTrialName").asText()).startsWith("pipe-");
    }

    @Test
    void primaryPodLabelsNameTheTaskWhoseLogHoldsTheMetric() {
        var key = bed.apply(experiment("named", "echo loss=${trialParameters.learningRate}", "pipelines.capstan.io/task: prepare"));
        var done = bed.await(key, RuntimeTestbed::finished, "finished");
        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        for (var t : bed.trials("named")) {
            assertThat(TrialRunner.observationsOf(t)).singleElement().satisfies(o -> assertThat(o.value()).isEqualTo(99.5));
        }
    }

    @Test
    void aFailingPipelineFailsItsTrialWithTheRunsMessage() {
        var key = bed.apply(experiment("broken", "echo dying >&2; exit 4", ""));
        var done = bed.await(key, RuntimeTestbed::finished, "finished");
        assertThat(done.status().phase()).isEqualTo("Failed");
        var failed = bed.trials("broken").stream().filter(t -> t.status().phase().equals("Failed")).findFirst().orElseThrow();
        assertThat(failed.status().condition("Failed").orElseThrow().message()).startsWith("PipelineRun " + failed.metadata().name() + " failed: ")
                .contains("train");
    }
}
