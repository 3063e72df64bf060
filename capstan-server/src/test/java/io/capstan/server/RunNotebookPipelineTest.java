package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A KFP pipeline whose step executes a notebook with nbclient, its parameters injected as papermill does. */
class RunNotebookPipelineTest {
    static final Path EXAMPLES = Path.of("").toAbsolutePath().getParent().resolve("examples/notebooks");

    @TempDir
    Path home;

    @Test
    void aStepRunsTheNotebookWithItsParameters() throws Exception {
        try (var server = new TestServer(home)) {
            var body = Json.json().createObjectNode();
            body.put("apiVersion", "pipelines.capstan.io/v1");
            body.put("kind", "PipelineRun");
            body.putObject("metadata").put("name", "nb");
            var spec = body.putObject("spec");
            spec.put("pipelineSpec", Files.readString(EXAMPLES.resolve("run-notebook-pipeline.yaml")));
            var parameters = spec.putObject("parameters");
            parameters.put("notebook", EXAMPLES.resolve("double.ipynb").toString());
            parameters.putObject("parameters").put("x", 21).put("label", "answer");
            var reply = server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json");
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
            JsonNode run = server.await("/apis/capstan/v1/namespaces/default/pipelineruns/nb",
                    r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(120));
            assertThat(run.path("status").path("phase").asText()).as(run.path("status").toString()).isEqualTo("Succeeded");
            // The injected parameters, not the notebook's defaults, reached the computation.
            assertThat(run.path("status").toString()).contains("{'label': 'answer', 'double': 42}");
        }
    }

    @Test
    void thePipelinesProgramIsTheScriptBesideIt() throws Exception {
        var pipeline = io.capstan.core.Json.yaml().readTree(Files.readString(EXAMPLES.resolve("run-notebook-pipeline.yaml")));
        var command = pipeline.path("deploymentSpec").path("executors").path("exec-run-notebook").path("container").path("command");
        assertThat(command.get(3).asText()).isEqualTo(Files.readString(EXAMPLES.resolve("run_notebook.py")));
    }
}
