package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.testing.TestImages;
import io.capstan.core.ResourceKey;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Katib trials whose script exists only inside their image, run by a real Podman: as Katib's examples ship them
 * ({@code python3 /opt/<example>/train.py} in the example's image), with the image's workingDir.
 */
class ContainerTrialsTest {
    private static String image;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildImage() throws IOException {
        TestImages.require();
        image = TestImages.image("katib-trial", Map.of("/opt/katib/train.sh", """
                #!/bin/sh
                # Katib-style arguments: --lr=<value>
                lr=${1#--lr=}
                echo "start $(pwd)" >> "$CAPSTAN_TRIAL_DIR/ledger"
                [ -n "$TRIAL_SLEEP" ] && sleep "$TRIAL_SLEEP"
                echo "epoch 1"
                echo "loss=$lr"
                echo "end" >> "$CAPSTAN_TRIAL_DIR/ledger"
                """));
    }

    private static String experiment(String name, int parallel, int max, String sleep) {
        return """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: %s}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm: {algorithmName: random}
                  parallelTrialCount: %d
                  maxTrialCount: %d
                  maxFailedTrialCount: 0
                  parameters:
                    - {name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryContainerName: training-container
                    trialParameters:
                      - {name: learningRate, reference: lr}
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      metadata:
                        annotations: {capstan.io/execution: container}
                      spec:
                        template:
                          spec:
                            containers:
                              - name: training-container
                                image: %s
                                imagePullPolicy: Never
                                workingDir: /opt/katib
                                command: [./train.sh, "--lr=${trialParameters.learningRate}"]
                                env: [{name: TRIAL_SLEEP, value: "%s"}]
                            restartPolicy: Never
                """.formatted(name, parallel, max, image, sleep);
    }

    @Test
    void anExperimentWhoseTrialScriptIsOnlyInTheImageSucceeds() throws Exception {
        assertThat(Path.of("/opt/katib/train.sh")).doesNotExist();
        try (var h = new TuningHarness(TestDatabases.h2File(dir.resolve("db")), dir, SearchCatalog.KATIB, "")) {
            var key = h.apply(experiment("in-image", 2, 3, ""));
            var done = h.reconcileUntil(key, Duration.ofSeconds(120), r -> false);

            assertThat(done.status().phase()).as(String.valueOf(done.status())).isEqualTo("Succeeded");
            var trials = h.trials(key);
            assertThat(trials).hasSize(3).allSatisfy(t -> {
                assertThat(t.status().phase()).as(String.valueOf(t.status())).isEqualTo("Succeeded");
                var loss = t.status().field("observation").orElseThrow().path("metrics").get(0).path("latest").asDouble();
                assertThat(loss).isBetween(0.1, 0.9);
            });
        }
        // The script ran in the image's working directory and wrote through the mounted trial folder.
        try (var files = Files.walk(dir.resolve("tuning"))) {
            var ledgers = files.filter(p -> p.getFileName().toString().equals("ledger")).toList();
            assertThat(ledgers).hasSize(3).allSatisfy(l -> assertThat(Files.readAllLines(l)).containsExactly("start /opt/katib", "end"));
        }
    }

    @Test
    void aKilledServersTrialContainersAreReAdoptedAndFinishOnce() throws Exception {
        var yamlFile = dir.resolve("experiment.yaml");
        Files.writeString(yamlFile, experiment("k9c", 2, 4, "4"));
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), TuningServerProcess.class.getName(),
                dir.toString(), yamlFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
        try {
            // Two trials' containers running, none finished: kill the server mid-trial.
            var deadline = Instant.now().plusSeconds(120);
            while (startedTrials() < 2) {
                if (!child.isAlive()) throw new AssertionError("the server died: " + Files.readString(dir.resolve("server.log")));
                if (Instant.now().isAfter(deadline)) throw new AssertionError("no trials started: " + Files.readString(dir.resolve("server.log")));
                LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            }
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        var running = TestImages.run(List.of("ps", "--filter", "ancestor=" + image, "--format", "{{.Names}}")).output().lines().toList();
        assertThat(running).as("trial containers outlive the server").hasSizeGreaterThanOrEqualTo(2);

        try (var h = new TuningHarness(TestDatabases.h2File(dir.resolve("db")), dir, SearchCatalog.KATIB, "")) {
            var key = new ResourceKey(Experiments.EXPERIMENT, "default", "k9c");
            var done = h.reconcileUntil(key, Duration.ofSeconds(180), r -> false);
            assertThat(done.status().phase()).isEqualTo("Succeeded");
            assertThat(h.trials(key)).hasSize(4).allSatisfy(t -> assertThat(t.status().phase()).isEqualTo("Succeeded"));
        }
        try (var files = Files.walk(dir.resolve("tuning"))) {
            var ledgers = files.filter(p -> p.getFileName().toString().equals("ledger")).toList();
            assertThat(ledgers).as("each trial ran exactly once").hasSize(4)
                    .allSatisfy(l -> assertThat(Files.readAllLines(l)).containsExactly("start /opt/katib", "end"));
        }
    }

    private long startedTrials() throws IOException {
        if (!Files.exists(dir.resolve("tuning"))) return 0;
        try (var files = Files.walk(dir.resolve("tuning"))) {
            return files.filter(p -> p.getFileName().toString().equals("ledger")).count();
        }
    }
}
