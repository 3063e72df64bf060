package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.server.CapstanServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan tune}, {@code experiments get}, {@code train} and {@code logs --rank} against a real server. */
class EngineCommandsTest {
    @TempDir
    static Path home;
    static CapstanServer server;

    @BeforeAll
    static void start() {
        server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Cli cli() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    private static String experiment(String name, String min) {
        return """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: %s}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm:
                    algorithmName: random
                    algorithmSettings: [{name: random_state, value: "7"}]
                  parallelTrialCount: 2
                  maxTrialCount: 3
                  maxFailedTrialCount: 1
                  parameters:
                    - {name: x, parameterType: double, feasibleSpace: {min: "%s", max: "1"}}
                  trialTemplate:
                    primaryContainerName: main
                    trialParameters: [{name: x, reference: x}]
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        template:
                          spec:
                            containers:
                              - {name: main, image: busybox, command: [sh, -c, 'echo loss=${trialParameters.x}']}
                            restartPolicy: Never
                """.formatted(name, min);
    }

    @Test
    void tuneWatchesTrialsToTheEndAndExperimentsGetShowsTheTable() throws Exception {
        var file = home.resolve("tune.yaml");
        Files.writeString(file, experiment("quad", "0"));
        var tuned = cli().run("tune", file.toString(), "--watch", "--timeout", "120");
        assertThat(tuned.exitCode()).as(tuned.err()).isZero();
        assertThat(tuned.out()).contains("experiment.kubeflow.org/quad created", "quad-1 Succeeded loss=", "best: quad-",
                "experiment quad: Succeeded");

        var table = cli().run("experiments", "get", "quad");
        assertThat(table.exitCode()).as(table.err()).isZero();
        var lines = table.out().lines().toList();
        assertThat(lines.get(2)).startsWith("TRIAL").contains("STATUS", "loss", "x");
        assertThat(lines).hasSize(6);
        // Sorted by the objective: the smallest loss first.
        double first = Double.parseDouble(lines.get(3).split("\\s+")[2]);
        double last = Double.parseDouble(lines.get(5).split("\\s+")[2]);
        assertThat(first).isLessThanOrEqualTo(last);
        assertThat(cli().run("experiments", "get", "quad", "--sort-by", "sideways").exitCode()).isEqualTo(2);
        assertThat(cli().run("experiments", "get", "nothing-here").exitCode()).isEqualTo(3);
    }

    @Test
    void tuneRefusesAnInfeasibleSpaceNamingTheField() throws Exception {
        var file = home.resolve("bad-tune.yaml");
        Files.writeString(file, experiment("inverted", "5"));
        var run = cli().run("tune", file.toString());
        assertThat(run.exitCode()).isEqualTo(5);
        assertThat(run.err()).contains("spec.parameters[0].feasibleSpace");
        assertThat(cli().run("get", "experiments").out()).doesNotContain("inverted");
    }

    @Test
    void trainRunsEveryRankWithTheTorchEnvironmentAndLogsShowOneRank() throws Exception {
        var job = """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: ranks}
                spec:
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, 'echo rank=$RANK of $WORLD_SIZE master=$MASTER_ADDR']}]}}
                    Worker:
                      replicas: 2
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, 'echo rank=$RANK of $WORLD_SIZE master=$MASTER_ADDR']}]}}
                """;
        var trained = cli().stdin(job).run("train", "-", "--watch", "--timeout", "120");
        assertThat(trained.exitCode()).as(trained.err()).isZero();
        assertThat(trained.out()).contains("pytorchjob.kubeflow.org/ranks created", "ranks  Succeeded");

        var rank2 = cli().run("logs", "ranks", "--rank", "2");
        assertThat(rank2.exitCode()).as(rank2.err()).isZero();
        assertThat(rank2.out()).contains("rank=2 of 3 master=127.0.0.1");
        assertThat(cli().run("logs", "pytorchjob/ranks", "--replica", "Master").out()).contains("rank=0 of 3");
        var missing = cli().run("logs", "ranks", "--rank", "7");
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.err()).contains("rank 7");
        assertThat(cli().run("logs", "ranks", "--rank", "-1").exitCode()).isEqualTo(2);
        assertThat(cli().run("get", "pytorchjobs").out()).contains("ranks").contains("Succeeded");
    }

    @Test
    void trainExitsNonZeroWhenTheJobFails() {
        var job = """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: doomed}
                spec:
                  runPolicy: {backoffLimit: 0}
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, 'exit 3']}]}}
                """;
        var trained = cli().stdin(job).run("train", "-", "--watch", "--timeout", "120");
        assertThat(trained.exitCode()).isEqualTo(1);
        assertThat(trained.out()).contains("doomed  Failed");
        var notAJob = cli().stdin(experiment("not-a-job", "0")).run("train", "-");
        assertThat(notAJob.exitCode()).isEqualTo(5);
        assertThat(notAJob.err()).contains("holds no training job; nothing was applied");
        assertThat(cli().run("get", "experiments", "not-a-job").exitCode()).isNotZero();
    }
}
