package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pipelines through the server: a KFP lightweight Python step on the offline runtime, and a built-in Java step. */
class PipelineRunApiTest {
    static final Path CORPUS = Conformance.path("kubeflow-pipelines/test_data/sdk_compiled_pipelines/valid");

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

    private static String run(String name, String pipelineText, String parametersJson) {
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", name);
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", pipelineText);
        try {
            spec.set("parameters", Json.json().readTree(parametersJson));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        var reply = server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return server.await("/apis/capstan/v1/namespaces/default/pipelineruns/" + name,
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(90))
                .path("status").toString();
    }

    @Test
    void aKfpLightweightPythonStepRunsOfflineToSuccess() throws Exception {
        var file = Conformance.require(CORPUS.resolve("hello_world.yaml"));
        var status = run("hello", Files.readString(file), "{\"text\": \"hi there\"}");
        assertThat(status).contains("\"phase\":\"Succeeded\"");
    }

    @Test
    void theIrisExampleTrainsAndRecordsMetricsInLineage() throws Exception {
        var root = Path.of("").toAbsolutePath().getParent();
        var status = run("iris", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")),
                "{\"source\": \"" + root.resolve("examples/iris/iris.csv") + "\"}");
        assertThat(status).contains("\"phase\":\"Succeeded\"");
        var uid = server.get("/apis/capstan/v1/namespaces/default/pipelineruns/iris").json().path("metadata").path("uid").asText();
        var lineage = server.get("/apis/capstan/v1/lineage/pipelineruns/" + uid).json();
        assertThat(lineage.path("executions")).hasSize(7);
        assertThat(lineage.path("artifacts").toString()).contains("accuracy");
    }

    @Test
    void aPipelineWithACycleIsRefusedNamingTheTask() {
        var body = """
                apiVersion: pipelines.capstan.io/v1
                kind: PipelineRun
                metadata: {name: cyclic}
                spec:
                  pipelineSpec:
                    pipelineInfo: {name: cyclic}
                    schemaVersion: 2.1.0
                    components:
                      comp-a: {executorLabel: exec-a}
                    deploymentSpec:
                      executors:
                        exec-a: {container: {image: alpine, command: [sh, -c, 'true']}}
                    root:
                      dag:
                        tasks:
                          a: {componentRef: {name: comp-a}, dependentTasks: [b], taskInfo: {name: a}}
                          b: {componentRef: {name: comp-a}, dependentTasks: [a], taskInfo: {name: b}}
                """;
        var reply = server.apply(body);
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.json().path("detail").asText()).contains("spec.pipelineSpec").containsIgnoringCase("cycle");
    }
}
