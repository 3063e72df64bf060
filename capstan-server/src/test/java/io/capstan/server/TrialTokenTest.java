package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trial is a real child process that finds its observation URL and its own token in its environment: with the
 * token it pushes its observations; the same token reads nothing else, and without it the push is refused.
 */
class TrialTokenTest {
    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aTrialPushesWithItsOwnTokenAndCanDoNothingElseWithIt() {
        // Each trial pushes its loss, then proves its token opens nothing else: listing jobs must answer 403.
        var command = "curl -sf -X POST -H \"Authorization: Bearer $CAPSTAN_TOKEN\" -H 'Content-Type: application/json'"
                + " -d '{\"metrics\":[{\"name\":\"loss\",\"value\":0.5}]}' \"$CAPSTAN_OBSERVATION_URL\""
                + " && test \"$(curl -s -o /dev/null -w '%{http_code}' -H \"Authorization: Bearer $CAPSTAN_TOKEN\""
                + " \"${CAPSTAN_OBSERVATION_URL%%/namespaces/*}/namespaces/default/jobs\")\" = 403";
        server.apply(experiment("pushes", command));

        var done = server.await("/apis/capstan/v1/namespaces/default/experiments/pushes",
                e -> e.path("status").path("phase").asText().matches("Succeeded|Failed"), Duration.ofSeconds(90));

        assertThat(done.path("status").path("phase").asText()).as(done.toString()).isEqualTo("Succeeded");
        var trial = server.get("/apis/capstan/v1/namespaces/default/trials/pushes-1").json();
        assertThat(trial.path("status").path("observations").get(0).path("value").asDouble()).isEqualTo(0.5);
    }

    @Test
    void aPushWithoutTheTokenIsRefused() {
        var command = "curl -sf -X POST -H 'Content-Type: application/json'"
                + " -d '{\"metrics\":[{\"name\":\"loss\",\"value\":0.5}]}' \"$CAPSTAN_OBSERVATION_URL\"";
        server.apply(experiment("anonymous", command));

        var done = server.await("/apis/capstan/v1/namespaces/default/experiments/anonymous",
                e -> e.path("status").path("phase").asText().matches("Succeeded|Failed"), Duration.ofSeconds(90));

        var trial = server.get("/apis/capstan/v1/namespaces/default/trials/anonymous-1").json();
        assertThat(trial.path("status").path("phase").asText()).as(trial.toString()).isEqualTo("Failed");
        assertThat(trial.path("status").path("observations").size()).isZero();
    }

    private static String experiment(String name, String command) {
        return """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: %s}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm: {algorithmName: random}
                  parallelTrialCount: 1
                  maxTrialCount: 1
                  maxFailedTrialCount: 1
                  metricsCollectorSpec: {collector: {kind: Push}}
                  parameters:
                    - {name: x, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryContainerName: main
                    trialParameters:
                      - {name: x, reference: x}
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        backoffLimit: 0
                        template:
                          spec:
                            containers:
                              - name: main
                                image: busybox
                                command: [sh, -c, '%s']
                            restartPolicy: Never
                """.formatted(name, command.replace("'", "''"));
    }
}
