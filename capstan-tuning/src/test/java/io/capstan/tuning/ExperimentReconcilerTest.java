package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Resource;
import io.capstan.store.Reconciler.Result;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiment controller against a real H2 store and real child processes (shell scripts stand in for trainers). */
class ExperimentReconcilerTest {
    @TempDir
    Path dir;
    TuningHarness h;

    @AfterEach
    void tearDown() {
        if (h != null) h.close();
    }

    private TuningHarness harness(SearchCatalog catalog) {
        h = new TuningHarness(TestDatabases.h2(), dir, catalog, "");
        return h;
    }

    private static String reason(Resource r, String condition) {
        return r.status().condition(condition).orElseThrow(() -> new AssertionError("no " + condition + " condition: " + r.status())).reason();
    }

    private static int count(Resource r, String field) {
        return r.status().field(field).orElseThrow().asInt();
    }

    @Test
    void reachesTheGoalThenStopsAndASecondReconcileChangesNothing() {
        harness(new FixedCatalog("x", List.of("0.9", "0.5", "0.05", "0.7")));
        var key = h.apply(anExperiment("goal").withObjective("type: minimize\n    goal: 0.1\n    objectiveMetricName: loss")
                .withBudget(1, 10, 1).build());
        var done = h.reconcileUntilDone(key);

        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(reason(done, "Succeeded")).isEqualTo("ExperimentGoalReached");
        assertThat(reason(done, "Running")).isEqualTo("ExperimentGoalReached");
        assertThat(done.status().condition("Created")).isPresent();
        assertThat(count(done, "trials")).isEqualTo(3);
        assertThat(count(done, "trialsSucceeded")).isEqualTo(3);
        var best = done.status().field("currentOptimalTrial").orElseThrow();
        assertThat(best.path("bestTrialName").asText()).isEqualTo("goal-3");
        assertThat(best.path("parameterAssignments").get(0).path("value").asText()).isEqualTo("0.05");
        assertThat(best.path("observation").path("metrics").get(0).path("min").asDouble()).isEqualTo(0.05);
        var trial = h.trial(key, 1);
        assertThat(trial.status().phase()).isEqualTo("Succeeded");
        assertThat(trial.metadata().ownerReferences()).singleElement().satisfies(o -> assertThat(o.uid()).isEqualTo(done.metadata().uid()));
        assertThat(trial.status().field("observations").orElseThrow().get(0).path("timestamp").asText()).isNotEmpty();

        assertThat(h.reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(h.reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(h.store.get(key).metadata().resourceVersion()).isEqualTo(done.metadata().resourceVersion());
        assertThat(h.trials(key)).hasSize(3);
        assertThat(h.backend.list()).hasSize(3);
    }

    @Test
    void runsParallelTrialsFromTheRealRandomSearchUntilTheBudgetIsSpent() {
        harness(SearchCatalog.KATIB);
        var key = h.apply(anExperiment("budget").withAlgorithm("algorithmName: random\n    algorithmSettings: [{name: random_state, value: '7'}]")
                .withObjective("type: maximize\n    objectiveMetricName: loss").withBudget(2, 4, 0).build());
        var done = h.reconcileUntilDone(key);

        assertThat(reason(done, "Succeeded")).isEqualTo("ExperimentMaxTrialsReached");
        assertThat(count(done, "trialsSucceeded")).isEqualTo(4);
        double bestSeen = Double.NEGATIVE_INFINITY;
        for (var t : h.trials(key)) {
            var x = TrialSpec.of(t.spec()).assignment().get("x");
            assertThat(Double.parseDouble(x)).isBetween(0.1, 0.9);
            var observed = t.status().field("observation").orElseThrow().path("metrics").get(0);
            assertThat(observed.path("latest").asDouble()).isEqualTo(Double.parseDouble(x));
            bestSeen = Math.max(bestSeen, Double.parseDouble(x));
        }
        var best = done.status().field("currentOptimalTrial").orElseThrow();
        assertThat(Double.parseDouble(best.path("parameterAssignments").get(0).path("value").asText())).isEqualTo(bestSeen);
        assertThat(h.reconciler.findExperiment(Experiments.workloadId(h.trial(key, 1).metadata().uid()))).contains(key);
        assertThat(h.reconciler.findExperiment("job_something")).isEmpty();
    }

    @Test
    void givesEachFailureAReasonAndFailsTheExperimentPastMaxFailedTrialCount() {
        harness(new FixedCatalog("mode", List.of("crash", "silent", "slow")));
        var key = h.apply(anExperiment("failing")
                .withParameters("- {name: mode, parameterType: categorical, feasibleSpace: {list: [crash, silent, slow]}}")
                .withTrialParameters("- {name: mode, reference: mode}")
                .withCommand("case ${trialParameters.mode} in crash) echo boom >&2; exit 3;; silent) echo no metrics here;; slow) sleep 60;; esac")
                .withJobSpec("activeDeadlineSeconds: 2")
                .withBudget(3, 3, 2).build());
        var done = h.reconcileUntilDone(key);

        assertThat(done.status().phase()).isEqualTo("Failed");
        assertThat(reason(done, "Failed")).isEqualTo("ExperimentMaxFailedTrialsReached");
        assertThat(count(done, "trialsFailed")).isEqualTo(3);
        var crash = h.trial(key, 1);
        assertThat(reason(crash, "Failed")).isEqualTo("TrialFailed");
        assertThat(crash.status().field("message").orElseThrow().asText()).contains("exited with code 3");
        assertThat(crash.status().field("logTail").orElseThrow().toString()).contains("boom");
        var silent = h.trial(key, 2);
        assertThat(silent.status().phase()).isEqualTo("MetricsUnavailable");
        assertThat(silent.status().field("message").orElseThrow().asText()).startsWith("metric loss not found in trial output");
        var slow = h.trial(key, 3);
        assertThat(reason(slow, "Failed")).isEqualTo("DeadlineExceeded");
    }

    @Test
    void readsCustomFiltersAndMetricFilesInTextAndJson() {
        harness(new FixedCatalog("x", List.of("0.25")));
        var custom = h.apply(anExperiment("custom")
                // the second filter is Go syntax (RE2), as Katib reads it: java.util.regex refuses (?P<name>...)
                .withCollector("source: {filter: {metricsFormat: ['(\\w+):\\s*([0-9.]+)', '(?P<name>[[:alpha:]]+)=(?P<value>[[:digit:].]+)']}}")
                .withCommand("echo 'epoch 1 loss: 0.5'; echo 'epoch 2 loss: ${trialParameters.x}'; echo 'epoch 3 loss=0.125'").withBudget(1, 1, 0).build());
        var json = h.apply(anExperiment("json")
                .withObjective("type: maximize\n    objectiveMetricName: accuracy\n    additionalMetricNames: [loss]")
                .withCollector("collector: {kind: File}\n    source: {fileSystemPath: {path: /katib/metrics.json, kind: File, format: JSON}}")
                .withCommand("echo '{\"accuracy\": \"0.5\", \"loss\": 0.9}' > /katib/metrics.json; echo 'not json' >> /katib/metrics.json;"
                        + " echo '{\"accuracy\": ${trialParameters.x}, \"timestamp\": 1700000000.5}' >> /katib/metrics.json")
                .withBudget(1, 1, 0).build());
        var text = h.apply(anExperiment("text")
                .withCollector("collector: {kind: File}\n    source: {fileSystemPath: {path: /var/log/katib/m.log, kind: File}}")
                .withCommand("echo \"2026-01-01T00:00:00Z loss=${trialParameters.x}\" > $CAPSTAN_METRICS_FILE").withBudget(1, 1, 0).build());

        var c = h.reconcileUntilDone(custom);
        assertThat(c.status().phase()).isEqualTo("Succeeded");
        var cObs = h.trial(custom, 1).status().field("observation").orElseThrow().path("metrics").get(0);
        assertThat(cObs.path("min").asDouble()).isEqualTo(0.125);
        assertThat(cObs.path("max").asDouble()).isEqualTo(0.5);

        var j = h.reconcileUntilDone(json);
        assertThat(j.status().phase()).isEqualTo("Succeeded");
        var jTrial = h.trial(json, 1);
        assertThat(jTrial.status().field("observation").orElseThrow().path("metrics").get(0).path("max").asDouble()).isEqualTo(0.5);
        assertThat(jTrial.status().field("observation").orElseThrow().path("metrics").get(1).path("name").asText()).isEqualTo("loss");
        assertThat(jTrial.status().field("observations").orElseThrow().toString()).contains("2023-11-14T22:13:20.500Z");
        assertThat(TrialSpec.of(jTrial.spec()).runSpec().toString()).contains("/katib/metrics.json");

        var t = h.reconcileUntilDone(text);
        assertThat(t.status().phase()).isEqualTo("Succeeded");
        assertThat(h.trial(text, 1).status().field("observations").orElseThrow().get(0).path("timestamp").asText()).isEqualTo("2026-01-01T00:00:00Z");
    }

    @Test
    void substitutesTrialMetadataIntoTheTemplate() {
        harness(new FixedCatalog("x", List.of("0.3")));
        var yaml = anExperiment("meta").withTrialParameters("""
                        - {name: x, reference: x}
                              - {name: trialName, reference: "${trialSpec.Name}"}
                              - {name: kind, reference: "${trialSpec.Kind}"}""")
                .withCommand("echo loss=${trialParameters.x} name=${trialParameters.trialName} kind=${trialParameters.kind} ns=$CAPSTAN_TRIAL_NAMESPACE")
                .withBudget(1, 1, 0).build();
        var key = h.apply(yaml);
        h.reconcileUntilDone(key);
        var trial = h.trial(key, 1);
        var logs = h.backend.tail(trial.status().field("workloadId").orElseThrow().asText(), 10);
        assertThat(logs).singleElement().satisfies(l -> assertThat(l.text()).isEqualTo("loss=0.3 name=meta-1 kind=Job ns=default"));
        assertThat(trial.status().field("image").orElseThrow().asText()).isEqualTo("busybox");
    }

    @Test
    void stopsATrialThatFallsBehindWithMedianStop() {
        harness(new FixedCatalog("x", List.of("0.1", "0.9")));
        var key = h.apply(anExperiment("median")
                .withSpec("earlyStopping: {algorithmName: medianstop, algorithmSettings: [{name: min_trials_required, value: '1'}, {name: start_step, value: '2'}]}")
                .withCommand("i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo loss=${trialParameters.x};"
                        + " if [ ${trialParameters.x} = 0.1 ] && [ $i -ge 4 ]; then exit 0; fi; sleep 0.2; done")
                .withBudget(1, 2, 0).build());
        var done = h.reconcileUntilDone(key);

        assertThat(reason(done, "Succeeded")).isEqualTo("ExperimentMaxTrialsReached");
        assertThat(count(done, "trialsEarlyStopped")).isEqualTo(1);
        var stopped = h.trial(key, 2);
        assertThat(stopped.status().phase()).isEqualTo("EarlyStopped");
        assertThat(reason(stopped, "EarlyStopped")).isEqualTo("TrialEarlyStopped");
        assertThat(done.status().field("currentOptimalTrial").orElseThrow().path("bestTrialName").asText()).isEqualTo("median-1");
    }

    @Test
    void failsAnExperimentWhoseCollectorCannotRunLocallyAndSaysWhy() {
        harness(SearchCatalog.KATIB);
        var key = h.apply(anExperiment("tfevents").withCollector("collector: {kind: TensorFlowEvent}\n    source: {fileSystemPath: {path: /logs, kind: Directory}}").build());
        var done = h.reconcileUntilDone(key);
        assertThat(reason(done, "Failed")).isEqualTo("MetricsCollectorUnsupported");
        assertThat(done.status().condition("Failed").orElseThrow().message()).contains("TensorFlow summary files");
        assertThat(h.trials(key)).isEmpty();
    }

    @Test
    void restartsAFinishedLongRunningExperimentWhenItsBudgetGrows() {
        harness(new FixedCatalog("x", List.of("0.5", "0.4", "0.3")));
        var yaml = anExperiment("grow").withSpec("resumePolicy: LongRunning").withBudget(1, 1, 0).build();
        var key = h.apply(yaml);
        assertThat(reason(h.reconcileUntilDone(key), "Succeeded")).isEqualTo("ExperimentMaxTrialsReached");

        var grown = h.parser.parse("grow.yaml", yaml.replace("maxTrialCount: 1", "maxTrialCount: 2")).getFirst();
        h.store.update(grown);
        var done = h.reconcileUntil(key, Duration.ofSeconds(90), r -> false);
        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(count(done, "trialsSucceeded")).isEqualTo(2);
        assertThat(h.trial(key, 1).status().phase()).isEqualTo("Succeeded");
    }

    @Test
    void deletingAnExperimentDeletesItsTrialsAndStopsTheirWorkloads() {
        harness(new FixedCatalog("x", List.of("0.5")));
        var key = h.apply(anExperiment("gone").withCommand("sleep 60").withBudget(1, 1, 0).build());
        h.reconcileUntil(key, Duration.ofSeconds(60), r -> r.status().field("trialsRunning").map(n -> n.asInt() == 1).orElse(false));
        var workload = h.trial(key, 1).status().field("workloadId").orElseThrow().asText();
        h.store.delete(key);
        assertThat(h.reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(h.trials(key)).isEmpty();
        assertThat(h.backend.find(workload).map(s -> s.phase().isTerminal())).as("cancelled, and then forgotten as an orphan").isEmpty();
    }

    @Test
    void killsTrialsStillRunningWhenTheGoalIsReached() {
        harness(new FixedCatalog("x", List.of("0.5", "0.01")));
        var key = h.apply(anExperiment("kill").withObjective("type: minimize\n    goal: 0.1\n    objectiveMetricName: loss")
                .withCommand("if [ ${trialParameters.x} = 0.5 ]; then sleep 60; fi; echo loss=${trialParameters.x}").withBudget(2, 4, 0).build());
        var done = h.reconcileUntilDone(key);

        assertThat(reason(done, "Succeeded")).isEqualTo("ExperimentGoalReached");
        var slow = h.trial(key, 1);
        assertThat(slow.status().phase()).isEqualTo("Killed");
        assertThat(count(done, "trialsKilled")).isEqualTo(1);
        var workload = h.backend.find(slow.status().field("workloadId").orElseThrow().asText()).orElseThrow();
        assertThat(workload.phase().isTerminal()).isTrue();
    }

    @Test
    void failsAnExperimentWhoseStoredSpecIsInvalidAndNamesTheField() {
        harness(SearchCatalog.KATIB);
        var valid = h.parser.parse("e.yaml", anExperiment("broken").build()).getFirst();
        var spec = valid.spec();
        spec.put("parallelTrialCount", "many");
        var key = h.store.create(valid.withSpec(spec)).key();
        var done = h.reconcileUntilDone(key);
        assertThat(reason(done, "Failed")).isEqualTo("ExperimentInvalid");
        assertThat(done.status().condition("Failed").orElseThrow().message()).contains("spec.parallelTrialCount");
        assertThat(h.reconciler.reconcile(key)).isEqualTo(Result.done());
        assertThat(h.store.get(key).metadata().resourceVersion()).isEqualTo(done.metadata().resourceVersion());
    }

    @Test
    void collectsTrialsLeftByAnEarlierExperimentOfTheSameName() {
        harness(new FixedCatalog("x", List.of("0.5")));
        var yaml = anExperiment("again").withBudget(1, 1, 0).build();
        var first = h.apply(yaml);
        h.reconcileUntilDone(first);
        var oldTrial = h.trial(first, 1);
        // Deleted while no server ran: nothing reconciled the deletion.
        h.store.delete(first);
        var second = h.apply(yaml);
        var done = h.reconcileUntilDone(second);

        assertThat(done.status().phase()).isEqualTo("Succeeded");
        var newTrial = h.trial(second, 1);
        assertThat(newTrial.metadata().uid()).isNotEqualTo(oldTrial.metadata().uid());
        assertThat(newTrial.metadata().ownerReferences().getFirst().uid()).isEqualTo(done.metadata().uid());
    }

    private void secret(String name, java.util.Map<String, String> values) {
        var spec = io.capstan.core.Json.json().createObjectNode();
        var data = spec.putObject("stringData");
        values.forEach(data::put);
        h.store.create(Resource.of("v1", io.capstan.core.CoreKinds.SECRET, io.capstan.core.ObjectMeta.named("default", name), spec));
    }

    @Test
    void trialsReadSecretsAsEnvironmentAndFilesAndAMissingOneFailsTheTrialNamingIt() {
        harness(new FixedCatalog("x", List.of("0.3", "0.4")));
        secret("api", java.util.Map.of("token", "tok-123", "conf", "level=7"));
        var key = h.apply(anExperiment("secrets")
                .withCommand("echo loss=${trialParameters.x} token=$API_TOKEN file=$(cat /etc/api/app.conf) mode=$(stat -c %a /etc/api/app.conf)")
                .withContainer("""
                        env:
                          - {name: API_TOKEN, valueFrom: {secretKeyRef: {name: api, key: token}}}
                        volumeMounts:
                          - {name: api, mountPath: /etc/api}""")
                .withPod("""
                        volumes:
                          - {name: api, secret: {secretName: api, items: [{key: conf, path: app.conf}]}}""")
                .withBudget(1, 1, 0).build());
        h.reconcileUntilDone(key);

        var trial = h.trial(key, 1);
        assertThat(trial.status().phase()).as(trial.status().toString()).isEqualTo("Succeeded");
        assertThat(trial.status().field("warnings")).isEmpty();
        var logs = h.backend.tail(trial.status().field("workloadId").orElseThrow().asText(), 10);
        assertThat(logs).singleElement().satisfies(l -> assertThat(l.text()).isEqualTo("loss=0.3 token=tok-123 file=level=7 mode=600"));
        assertThat(dir.resolve("tuning/default/secrets/secrets-1").resolve(TrialRunner.VOLUMES)).as("removed when the trial ended").doesNotExist();

        var missing = h.apply(anExperiment("nosecret")
                .withContainer("""
                        env:
                          - {name: API_TOKEN, valueFrom: {secretKeyRef: {name: api, key: nope}}}""")
                .withBudget(1, 1, 0).build());
        h.reconcileUntilDone(missing);
        var failed = h.trial(missing, 1);
        assertThat(failed.status().phase()).isEqualTo("Failed");
        assertThat(reason(failed, "Failed")).isEqualTo("CreateContainerConfigError");
        assertThat(failed.status().condition("Failed").orElseThrow().message()).contains("secret 'api'", "no key 'nope'").doesNotContain("tok-123");
    }
}
