package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ObjectMeta;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The experiment controller's side of a training-job trial, with no training controller running: the job is
 * recorded before it is created, created once, re-created after a crash in between, and a job that vanishes or
 * belongs to someone else fails the trial with a reason. Real H2 store, reconciles driven by hand.
 */
class JobTrialRecoveryTest {
    private static final String EXPERIMENT = """
            apiVersion: kubeflow.org/v1beta1
            kind: Experiment
            metadata: {name: %s}
            spec:
              objective: {type: minimize, objectiveMetricName: loss}
              algorithm: {algorithmName: random}
              parallelTrialCount: 1
              maxTrialCount: 1
              parameters:
                - {name: x, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
              trialTemplate:
                trialParameters:
                  - {name: x, reference: x}
                trialSpec:
                  apiVersion: kubeflow.org/v1
                  kind: PyTorchJob
                  spec:
                    pytorchReplicaSpecs:
                      Master:
                        replicas: 1
                        template:
                          spec:
                            containers:
                              - {name: pytorch, image: busybox, command: [sh, -c, 'echo loss=${trialParameters.x}']}
            """;

    @TempDir
    Path dir;
    TuningHarness h;

    @BeforeEach
    void start() {
        h = new TuningHarness(TestDatabases.h2(), dir, new FixedCatalog("x", List.of("0.25")), "");
    }

    @AfterEach
    void stop() {
        h.close();
    }

    private Resource job(String name) {
        return h.store.get(new ResourceKey("PyTorchJob", "default", name));
    }

    @Test
    void recordsTheJobBeforeCreatingItCreatesItOnceAndRecreatesItAfterACrashInBetween() {
        var key = h.apply(EXPERIMENT.formatted("rec"));
        h.reconciler.reconcile(key);
        h.reconciler.reconcile(key);

        var trial = h.trial(key, 1);
        var job = job("rec-1");
        assertThat(trial.status().field("jobRef").orElseThrow().path("kind").asText()).isEqualTo("PyTorchJob");
        assertThat(trial.status().field("jobUid").orElseThrow().asText()).isEqualTo(job.metadata().uid());
        assertThat(job.spec().toString()).contains("echo loss=0.25").doesNotContain("trialParameters");
        assertThat(job.metadata().ownerReferences()).singleElement().satisfies(o -> assertThat(o.uid()).isEqualTo(trial.metadata().uid()));
        assertThat(trial.status().phase()).isEqualTo("Created");

        h.reconciler.reconcile(key);
        assertThat(job("rec-1").metadata().uid()).isEqualTo(job.metadata().uid());
        // The job has not started (no training controller here): the trial waits, saying so.
        var waiting = h.trial(key, 1);
        assertThat(waiting.status().phase()).isEqualTo("Created");
        assertThat(waiting.status().condition("Running").orElseThrow().reason()).isEqualTo("JobCreated");

        // A crash after recording the job and before creating it: the status has jobRef and no jobUid, no job exists.
        h.store.delete(job.key());
        var t = h.trial(key, 1);
        h.store.updateStatus(t.key(), t.metadata().resourceVersion(), statusWithout(t.status(), "jobUid"));
        h.reconciler.reconcile(key);
        var recreated = job("rec-1");
        assertThat(recreated.metadata().uid()).isNotEqualTo(job.metadata().uid());
        assertThat(h.trial(key, 1).status().field("jobUid").orElseThrow().asText()).isEqualTo(recreated.metadata().uid());

        // Deleted by hand once created: the trial fails, it is not silently re-run.
        h.store.delete(recreated.key());
        h.reconciler.reconcile(key);
        var failed = h.trial(key, 1);
        assertThat(failed.status().phase()).isEqualTo("Failed");
        assertThat(failed.status().condition("Failed").orElseThrow().reason()).isEqualTo("TrialResourceDeleted");
        assertThat(h.store.find(recreated.key())).isEmpty();
    }

    @Test
    void aJobOfTheTrialsNameThatIsNotItsFailsTheTrialAndIsLeftAlone() {
        var stranger = Resource.of("kubeflow.org/v1", "PyTorchJob", ObjectMeta.named("default", "other-1"),
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        var theirs = h.store.create(stranger);
        var key = h.apply(EXPERIMENT.formatted("other"));
        h.reconciler.reconcile(key);
        h.reconciler.reconcile(key);
        h.reconciler.reconcile(key);

        var trial = h.trial(key, 1);
        assertThat(trial.status().phase()).isEqualTo("Failed");
        assertThat(trial.status().condition("Failed").orElseThrow().reason()).isEqualTo("TrialResourceConflict");
        assertThat(job("other-1").metadata().uid()).isEqualTo(theirs.metadata().uid());

        h.store.delete(key);
        h.reconciler.reconcile(key);
        assertThat(h.store.find(theirs.key())).as("not the trial's, so not deleted with it").isPresent();
    }

    private static io.capstan.core.ResourceStatus statusWithout(io.capstan.core.ResourceStatus status, String field) {
        var fields = new java.util.LinkedHashMap<>(status.fields());
        fields.remove(field);
        return new io.capstan.core.ResourceStatus(status.phase(), status.conditions(), status.observedGeneration(), fields);
    }
}
