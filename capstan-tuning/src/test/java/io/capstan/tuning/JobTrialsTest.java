package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.capstan.backend.LocalBackend;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceParser;
import io.capstan.store.JdbiResourceStore;
import io.capstan.training.MachineCapacity;
import io.capstan.training.ModelLineage;
import io.capstan.training.TrainingController;
import io.capstan.training.TrainingKinds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trials whose trialSpec is a PyTorchJob, run by the real training controller in a real controller runtime: the
 * experiment controller creates the jobs as resources and mirrors their status; the two never call each other.
 * Shell commands stand in for trainers.
 */
class JobTrialsTest {
    @TempDir
    Path dir;
    RuntimeTestbed bed;
    JdbiResourceStore store;
    LocalBackend backend;
    ResourceParser parser;

    @BeforeEach
    void start() {
        bed = new RuntimeTestbed(dir, "PyTorchJob", TrainingKinds.all(), b -> new TrainingController(b.store, b.backend,
                new MachineCapacity(8, 16L << 30, 0), dir.resolve("training"), Clock.systemUTC(), ModelLineage.NONE).reconcilers());
        store = bed.store;
        backend = bed.backend;
        parser = bed.parser;
    }

    @AfterEach
    void stop() {
        if (bed != null) bed.close();
    }

    /** A PyTorchJob experiment: Master prints the objective from the trial parameter, Worker prints a decoy. */
    private static String torchExperiment(String name, String masterCommand, String extraSpec) {
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
                %s
                  trialTemplate:
                    primaryContainerName: pytorch
                    primaryPodLabels: {training.kubeflow.org/replica-type: master}
                    trialParameters:
                      - {name: learningRate, reference: lr}
                    trialSpec:
                      apiVersion: kubeflow.org/v1
                      kind: PyTorchJob
                      spec:
                        runPolicy: {backoffLimit: 0}
                        pytorchReplicaSpecs:
                          Master:
                            replicas: 1
                            restartPolicy: Never
                            template:
                              spec:
                                containers:
                                  - name: pytorch
                                    image: busybox
                                    command: [sh, -c, '%s']
                          Worker:
                            replicas: 1
                            restartPolicy: Never
                            template:
                              spec:
                                containers:
                                  - name: pytorch
                                    image: busybox
                                    command: [sh, -c, 'echo loss=99.5']
                """.formatted(name, extraSpec, masterCommand);
    }

    private ResourceKey apply(String yaml) {
        return bed.apply(yaml);
    }

    private Resource await(ResourceKey key, Predicate<Resource> until, String what) {
        return bed.await(key, until, what);
    }

    private static boolean finished(Resource experiment) {
        return RuntimeTestbed.finished(experiment);
    }

    private List<Resource> trials(String experiment) {
        return bed.trials(experiment);
    }

    private List<Resource> jobs(String experiment) {
        return bed.created(experiment);
    }

    @Test
    void runsPyTorchJobTrialsThroughTheTrainingControllerAndReadsTheMastersLog() {
        var key = apply(torchExperiment("torch", "echo rank=$CAPSTAN_RANK trial=$CAPSTAN_TRIAL_NAME; echo loss=${trialParameters.learningRate}", ""));
        var done = await(key, JobTrialsTest::finished, "finished");

        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        assertThat(done.status().condition("Succeeded").orElseThrow().reason()).isEqualTo("ExperimentMaxTrialsReached");
        assertThat(done.status().field("trialsSucceeded").orElseThrow().asInt()).isEqualTo(2);
        var trials = trials("torch");
        assertThat(trials).hasSize(2);
        for (var t : trials) {
            assertThat(t.status().phase()).as("trial %s: %s", t.metadata().name(), t.status()).isEqualTo("Succeeded");
            var lr = Double.parseDouble(TrialSpec.of(t.spec()).assignment().get("lr"));
            var observed = TrialRunner.observationsOf(t);
            // The Master's line, not the Worker's decoy 99.5.
            assertThat(observed).singleElement().satisfies(o -> {
                assertThat(o.metric()).isEqualTo("loss");
                assertThat(o.value()).isEqualTo(lr);
            });
            assertThat(t.status().field("observation").orElseThrow().path("metrics").get(0).path("min").asDouble()).isEqualTo(lr);
            assertThat(t.status().field("jobUid").orElseThrow().asText()).isNotEmpty();

            var job = store.get(new ResourceKey("PyTorchJob", "default", t.metadata().name()));
            assertThat(job.status().phase()).isEqualTo("Succeeded");
            assertThat(job.metadata().labels()).containsEntry(Experiments.EXPERIMENT_LABEL, "torch")
                    .containsEntry(TrialJobs.TRIAL_LABEL, t.metadata().name());
            assertThat(job.metadata().ownerReferences()).singleElement().satisfies(o -> {
                assertThat(o.kind()).isEqualTo("Trial");
                assertThat(o.uid()).isEqualTo(t.metadata().uid());
            });
            // Trial parameters substituted, trial env given to every replica.
            var master = job.spec().path("pytorchReplicaSpecs").path("Master").path("template").path("spec").path("containers").get(0);
            assertThat(master.path("command").get(2).asText()).endsWith("echo loss=" + TrialSpec.of(t.spec()).assignment().get("lr"));
            assertThat(master.path("env").findValuesAsText("name")).contains("CAPSTAN_TRIAL_NAME", "KATIB_TRIAL_NAME", "CAPSTAN_EXPERIMENT_NAME");
            var masterLog = backend.tail(job.status().field("workloads").orElseThrow().get(0).path("id").asText(), 10);
            assertThat(masterLog.getFirst().text()).isEqualTo("rank=0 trial=" + t.metadata().name());
        }
        assertThat(done.status().field("currentOptimalTrial").orElseThrow().path("bestTrialName").asText()).startsWith("torch-");

    }

    @Test
    void aFailingPyTorchJobFailsItsTrialWithTheJobsReason() {
        var key = apply(torchExperiment("broken", "echo boom >&2; exit 3", "").replace("maxTrialCount: 2", "maxTrialCount: 1")
                .replace("parallelTrialCount: 2", "parallelTrialCount: 1"));
        var done = await(key, JobTrialsTest::finished, "finished");

        assertThat(done.status().phase()).isEqualTo("Failed");
        assertThat(done.status().condition("Failed").orElseThrow().reason()).isEqualTo("ExperimentMaxFailedTrialsReached");
        var trial = trials("broken").getFirst();
        assertThat(trial.status().phase()).isEqualTo("Failed");
        var failed = trial.status().condition("Failed").orElseThrow();
        assertThat(failed.reason()).isEqualTo("TrialFailed");
        assertThat(trial.status().field("message").orElseThrow().asText()).contains("PyTorchJob broken-1 failed: ").contains("Master 0 (rank 0)");
        assertThat(trial.status().field("logTail").orElseThrow().toString()).contains("boom");
    }

    @Test
    void theFileCollectorReadsTheKatibPathRewrittenIntoTheTrialFolder() {
        var key = apply(torchExperiment("file", "echo loss=${trialParameters.learningRate} > /var/log/katib/metrics.log",
                "  metricsCollectorSpec:\n    collector: {kind: File}\n    source: {fileSystemPath: {path: /var/log/katib/metrics.log, kind: File}}"));
        var done = await(key, JobTrialsTest::finished, "finished");

        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        for (var t : trials("file")) {
            var lr = Double.parseDouble(TrialSpec.of(t.spec()).assignment().get("lr"));
            assertThat(TrialRunner.observationsOf(t)).singleElement().satisfies(o -> assertThat(o.value()).isEqualTo(lr));
            assertThat(Files.exists(dir.resolve("tuning/default/file").resolve(t.metadata().name()).resolve("katib/metrics.log"))).isTrue();
        }
    }

    @Test
    void deletingTheExperimentDeletesTheJobsItsTrialsCreated() {
        var key = apply(torchExperiment("gone", "echo loss=0.5; sleep 60", ""));
        await(key, e -> jobs("gone").size() == 2 && trials("gone").stream().allMatch(t -> t.status().phase().equals("Running")), "ran two trials");
        var workloads = jobs("gone").stream().flatMap(j -> j.status().field("workloads").map(w -> w.findValuesAsText("id")).orElse(List.of()).stream()).toList();
        assertThat(workloads).hasSize(4);

        store.delete(key);
        var deadline = Instant.now().plus(RuntimeTestbed.TIMEOUT);
        while (Instant.now().isBefore(deadline) && (!jobs("gone").isEmpty() || !trials("gone").isEmpty()
                || workloads.stream().anyMatch(id -> backend.find(id).filter(s -> !s.phase().isTerminal()).isPresent()))) {
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        assertThat(trials("gone")).isEmpty();
        assertThat(jobs("gone")).isEmpty();
        assertThat(workloads).allSatisfy(id -> assertThat(backend.find(id).filter(s -> !s.phase().isTerminal())).isEmpty());
    }

    @Test
    void runsTrainJobTrialsAndReadsRankZero() {
        var key = apply("""
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: tj}
                spec:
                  objective: {type: maximize, objectiveMetricName: accuracy}
                  algorithm: {algorithmName: random}
                  parallelTrialCount: 1
                  maxTrialCount: 1
                  parameters:
                    - {name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryContainerName: node
                    trialParameters:
                      - {name: learningRate, reference: lr}
                    trialSpec:
                      apiVersion: trainer.kubeflow.org/v1alpha1
                      kind: TrainJob
                      spec:
                        runtimeRef: {name: torch-distributed}
                        trainer:
                          numNodes: 2
                          image: busybox
                          command: [sh, -c, 'if [ "$CAPSTAN_RANK" = 0 ]; then echo accuracy=${trialParameters.learningRate}; else echo accuracy=99.5; fi; echo "$CAPSTAN_TRIAL_NAME"']
                """);
        var done = await(key, JobTrialsTest::finished, "finished");

        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        var trial = trials("tj").getFirst();
        var lr = Double.parseDouble(TrialSpec.of(trial.spec()).assignment().get("lr"));
        assertThat(TrialRunner.observationsOf(trial)).singleElement().satisfies(o -> assertThat(o.value()).isEqualTo(lr));
        var job = store.get(new ResourceKey("TrainJob", "default", "tj-1"));
        assertThat(job.status().phase()).isEqualTo("Succeeded");
        assertThat(job.status().field("workloads").orElseThrow()).hasSize(2);
        for (var w : job.status().field("workloads").orElseThrow()) {
            assertThat(backend.tail(w.path("id").asText(), 5).getLast().text()).isEqualTo("tj-1");
        }
    }

    @Test
    void admissionRefusesATrialKindThatCannotRunWithAFieldError() {
        var yaml = torchExperiment("tf", "echo loss=1", "").replace("kind: PyTorchJob", "kind: TFJob");
        var e = catchThrowableOfType(InvalidSpecException.class, () -> parser.parse("tf.yaml", yaml));
        assertThat(e).isNotNull();
        assertThat(e.errors()).anySatisfy(err -> {
            assertThat(err.path()).isEqualTo("spec.trialTemplate.trialSpec.kind");
            assertThat(err.message()).contains("kubeflow.org/v1 TFJob").contains("PyTorchJob").contains("TrainJob");
        });
    }
}
