package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.LocalBackend;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.metadata.MetadataStore;
import io.capstan.pipelines.run.PipelineRunReconciler;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.store.ControllerRuntime;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LabelSelector;
import io.capstan.store.LeaderLease;
import io.capstan.store.ListQuery;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trials whose trialSpec is a Capstan PipelineRun, run by the real pipeline controller: each trial is a two-step
 * KFP pipeline whose second step prints the objective computed from the trial's parameter.
 */
class PipelineRunTrialsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    LocalBackend backend;
    ControllerRuntime runtime;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(kinds()));

    private static List<ResourceKind> kinds() {
        var all = new ArrayList<>(Experiments.kinds());
        all.add(PipelineRuns.RESOURCE_KIND);
        return all;
    }

    @BeforeEach
    void start() {
        db = TestDatabases.h2();
        store = TuningHarness.storeOf(db);
        db.migrate("metadata");
        backend = TuningHarness.backendIn(dir);
        var clock = Clock.systemUTC();
        runtime = new ControllerRuntime(store, LeaderLease.of(db, "controllers", clock), clock, Duration.ofSeconds(2), new SimpleMeterRegistry());
        runtime.register(new PipelineRunReconciler(store, backend, new MetadataStore(db, clock), dir.resolve("runs"), clock));
        runtime.register(new ExperimentReconciler(store, backend, dir.resolve("tuning"), clock));
        runtime.start();
    }

    @AfterEach
    void stop() {
        if (runtime != null) runtime.close();
        if (backend != null) backend.shutdownAndKillAll(Duration.ofSeconds(5));
        if (db != null) db.close();
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

    private ResourceKey apply(String yaml) {
        return store.create(parser.parse("test.yaml", yaml).getFirst()).key();
    }

    private Resource await(ResourceKey key, Predicate<Resource> until, String what) {
        var deadline = Instant.now().plus(TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            var now = store.find(key);
            if (now.isPresent() && until.test(now.get())) return now.get();
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError(key + " never " + what + "; status: " + store.find(key).map(Resource::status)
                + "\nruns: " + list(PipelineRuns.KIND, key.name()).stream().map(j -> j.metadata().name() + " " + j.status()).toList());
    }

    private static boolean finished(Resource experiment) {
        var phase = experiment.status().phase();
        return phase.equals("Succeeded") || phase.equals("Failed");
    }

    private List<Resource> list(String kind, String experiment) {
        var selector = new LabelSelector(List.of(new LabelSelector.Requirement(Experiments.EXPERIMENT_LABEL, LabelSelector.Operator.IN, Set.of(experiment))));
        return store.list(new ListQuery(kind, Optional.of("default"), selector, ListQuery.MAX_LIMIT, Optional.empty())).items();
    }

    @Test
    void runsPipelineRunTrialsAndReadsTheLastStepsLog() {
        var key = apply(experiment("pipe", "echo trial=$CAPSTAN_TRIAL_NAME; echo loss=${trialParameters.learningRate}", ""));
        var done = await(key, PipelineRunTrialsTest::finished, "finished");

        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        assertThat(done.status().field("trialsSucceeded").orElseThrow().asInt()).isEqualTo(2);
        var trials = list(Experiments.TRIAL, "pipe");
        assertThat(trials).hasSize(2);
        for (var t : trials) {
            assertThat(t.status().phase()).as("trial %s: %s", t.metadata().name(), t.status()).isEqualTo("Succeeded");
            var lr = Double.parseDouble(TrialSpec.of(t.spec()).assignment().get("lr"));
            // The train step's line, not the prepare step's decoy 99.5.
            assertThat(TrialRunner.observationsOf(t)).singleElement().satisfies(o -> {
                assertThat(o.metric()).isEqualTo("loss");
                assertThat(o.value()).isEqualTo(lr);
            });
            var run = store.get(new ResourceKey(PipelineRuns.KIND, "default", t.metadata().name()));
            assertThat(run.status().phase()).isEqualTo("Succeeded");
            assertThat(run.metadata().labels()).containsEntry(Experiments.EXPERIMENT_LABEL, "pipe").containsEntry(TrialJobs.TRIAL_LABEL, t.metadata().name());
            assertThat(run.metadata().ownerReferences()).singleElement().satisfies(o -> assertThat(o.uid()).isEqualTo(t.metadata().uid()));
            // The trial's variables reach every step.
            var trainLog = backend.tail(run.status().field("tasks").orElseThrow().path("root/train").path("workloadId").asText(), 10);
            assertThat(trainLog.getFirst().text()).isEqualTo("trial=" + t.metadata().name());
        }
        assertThat(done.status().field("currentOptimalTrial").orElseThrow().path("bestTrialName").asText()).startsWith("pipe-");
    }

    @Test
    void primaryPodLabelsNameTheTaskWhoseLogHoldsTheMetric() {
        var key = apply(experiment("named", "echo loss=${trialParameters.learningRate}", "pipelines.capstan.io/task: prepare"));
        var done = await(key, PipelineRunTrialsTest::finished, "finished");
        assertThat(done.status().phase()).as("status: %s", done.status()).isEqualTo("Succeeded");
        for (var t : list(Experiments.TRIAL, "named")) {
            assertThat(TrialRunner.observationsOf(t)).singleElement().satisfies(o -> assertThat(o.value()).isEqualTo(99.5));
        }
    }

    @Test
    void aFailingPipelineFailsItsTrialWithTheRunsMessage() {
        var key = apply(experiment("broken", "echo dying >&2; exit 4", ""));
        var done = await(key, PipelineRunTrialsTest::finished, "finished");
        assertThat(done.status().phase()).isEqualTo("Failed");
        var failed = list(Experiments.TRIAL, "broken").stream().filter(t -> t.status().phase().equals("Failed")).findFirst().orElseThrow();
        assertThat(failed.status().condition("Failed").orElseThrow().message()).startsWith("PipelineRun " + failed.metadata().name() + " failed: ")
                .contains("train");
    }
}
