package io.capstan.server.kfp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.metadata.EventType;
import io.capstan.metadata.PathStep;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.capstan.store.testing.Conformance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every endpoint of the v2beta1 API, answered as KFP's swagger declares: {@link KfpTestServer} checks each JSON answer
 * (successes, lists and errors) against the swagger and fails on the first field a generated client would misread.
 * Task details carry MLMD ids, and Capstan's own view sits under {@value SwaggerSchema#EXTENSION}.
 */
class KfpApiConformanceTest {
    /** Two steps passing a parameter and a Dataset artifact, so that task inputs and outputs have MLMD artifacts. */
    static final String TWO_STEPS = """
            pipelineInfo: {name: two-steps}
            schemaVersion: 2.1.0
            sdkVersion: kfp-2.13.0
            root:
              inputDefinitions:
                parameters:
                  message: {parameterType: STRING, defaultValue: hi, isOptional: true}
              dag:
                tasks:
                  produce:
                    componentRef: {name: comp-produce}
                    taskInfo: {name: produce}
                    inputs: {parameters: {text: {componentInputParameter: message}}}
                  consume:
                    componentRef: {name: comp-consume}
                    taskInfo: {name: consume}
                    dependentTasks: [produce]
                    inputs:
                      parameters: {line: {taskOutputParameter: {producerTask: produce, outputParameterKey: Output}}}
                      artifacts: {data: {taskOutputArtifact: {producerTask: produce, outputArtifactKey: data}}}
            components:
              comp-produce:
                executorLabel: exec-produce
                inputDefinitions: {parameters: {text: {parameterType: STRING}}}
                outputDefinitions:
                  parameters: {Output: {parameterType: STRING}}
                  artifacts: {data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}}
              comp-consume:
                executorLabel: exec-consume
                inputDefinitions:
                  parameters: {line: {parameterType: STRING}}
                  artifacts: {data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}}
            deploymentSpec:
              executors:
                exec-produce:
                  container:
                    image: alpine
                    command: [sh, -c]
                    args: ["echo {{$.inputs.parameters['text']}} > {{$.outputs.parameters['Output'].output_file}}; echo x > {{$.outputs.artifacts['data'].path}}"]
                exec-consume:
                  container:
                    image: alpine
                    command: [cat]
                    args: ["{{$.inputs.artifacts['data'].path}}"]
            """;
    static final String MISSING = "0b6f1f64-1111-4c4c-9a9a-123456789abc";

    @TempDir
    static Path home;
    static KfpTestServer server;

    @BeforeAll
    static void start() {
        Conformance.require(SwaggerSchema.SWAGGER);
        server = new KfpTestServer(home);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static KfpTestServer.Reply ok(KfpTestServer.Reply reply) {
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply;
    }

    static Map<String, JsonNode> tasksByName(JsonNode run) {
        var out = new HashMap<String, JsonNode>();
        run.path("run_details").path("task_details").forEach(t -> out.put(t.path("display_name").asText(), t));
        return out;
    }

    static List<Long> artifactIds(JsonNode artifactList) {
        var out = new ArrayList<Long>();
        artifactList.path("artifact_ids").forEach(id -> out.add(Long.parseLong(id.asText())));
        return out;
    }

    @Test
    void taskInputsAndOutputsAreArtifactListsOfMlmdIdsWithCapstansViewUnderTheExtension() throws Exception {
        var uploaded = ok(server.upload("/pipelines/upload?name=two-steps", "two-steps.yaml", TWO_STEPS.getBytes(StandardCharsets.UTF_8)));
        var pipelineId = uploaded.json().path("pipeline_id").asText();
        var runId = ok(server.post("/runs", """
                {"display_name": "artifacts", "pipeline_version_reference": {"pipeline_id": "%s"},
                 "runtime_config": {"parameters": {"message": "hello"}}}""".formatted(pipelineId))).json().path("run_id").asText();
        var run = server.await("/runs/" + runId, r -> KfpApiTest.TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(90));
        assertThat(run.path("state").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
        var tasks = tasksByName(run);
        var produce = tasks.get("produce");
        var consume = tasks.get("consume");
        assertThat(produce).as(run.toString()).isNotNull();
        assertThat(consume).as(run.toString()).isNotNull();

        var metadata = server.server.metadata();
        var produced = artifactIds(produce.path("outputs").path("data"));
        assertThat(produced).as(produce.toString()).hasSize(1);
        var artifact = metadata.getArtifact(produced.getFirst());
        assertThat(artifact.type()).isEqualTo("system.Dataset");
        assertThat(artifactIds(consume.path("inputs").path("data"))).isEqualTo(produced);
        assertThat(produce.path("outputs").has("Output")).as("a parameter is not an artifact").isFalse();

        long executionId = Long.parseLong(produce.path("execution_id").asText());
        var execution = metadata.getExecution(executionId);
        assertThat(execution.name()).endsWith("/" + produce.path("task_id").asText());
        var outputEvents = metadata.eventsByExecution(executionId).stream().filter(e -> e.type() == EventType.OUTPUT).toList();
        assertThat(outputEvents).extracting(e -> e.artifactId()).containsExactlyElementsOf(produced);
        assertThat(outputEvents.getFirst().path()).containsExactly(PathStep.key("data"));
        assertThat(Long.parseLong(run.path("run_details").path("pipeline_run_context_id").asText()))
                .isEqualTo(metadata.contextsByExecution(executionId).stream().filter(c -> c.type().equals("system.PipelineRun")).findFirst().orElseThrow().id());

        var own = produce.path(SwaggerSchema.EXTENSION);
        assertThat(own.path("inputs").path("parameters").path("text").asText()).isEqualTo("hello");
        assertThat(own.path("outputs").path("parameters").path("Output").asText()).contains("hello");
        assertThat(own.path("outputs").path("artifacts").path("data").get(0).path("uri").asText()).isEqualTo(artifact.uri());
        assertThat(consume.path(SwaggerSchema.EXTENSION).path("inputs").path("artifacts").path("data").get(0).path("uri").asText()).isEqualTo(artifact.uri());
        assertThat(own.path("cache_state").asText()).isEqualTo("NOT_CACHED");
    }

    @Test
    void taskDetailsCarryChildTasksStateHistoryAndExecutorDetail() throws Exception {
        var runId = ok(server.post("/runs", KfpApiTest.runBody(Json.yaml().readTree(TWO_STEPS), "details"))).json().path("run_id").asText();
        var run = server.await("/runs/" + runId, r -> KfpApiTest.TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(90));
        assertThat(run.path("state").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
        var tasks = tasksByName(run);
        var produce = tasks.get("produce");
        var consume = tasks.get("consume");
        var children = new ArrayList<String>();
        produce.path("child_tasks").forEach(c -> children.add(c.path("task_id").asText()));
        assertThat(children).as("consume depends on produce").containsExactly(consume.path("task_id").asText());
        assertThat(consume.path("child_tasks").isMissingNode() || consume.path("child_tasks").isEmpty()).isTrue();

        for (var t : List.of(produce, consume)) {
            var history = t.path("state_history");
            assertThat(history.size()).as(t.toString()).isGreaterThanOrEqualTo(2);
            assertThat(history.get(0).path("state").asText()).isEqualTo("RUNNING");
            assertThat(history.get(0).path("update_time").asText()).isEqualTo(t.path("start_time").asText());
            assertThat(history.get(history.size() - 1).path("state").asText()).isEqualTo("SUCCEEDED");
            assertThat(history.get(history.size() - 1).path("update_time").asText()).isEqualTo(t.path("end_time").asText());
            assertThat(t.path("executor_detail").path("main_job").asText()).isNotEmpty().isEqualTo(t.path("pod_name").asText());
        }
        var runHistory = new ArrayList<String>();
        run.path("state_history").forEach(s -> runHistory.add(s.path("state").asText()));
        assertThat(runHistory).first().isEqualTo("PENDING");
        assertThat(runHistory).last().isEqualTo("SUCCEEDED");
        assertThat(run.path("state_history").get(run.path("state_history").size() - 1).path("update_time").asText())
                .isEqualTo(run.path("finished_at").asText());
    }

    @Test
    void aRecurringRunsUpdatedAtMovesOnDisableAndEnable() throws Exception {
        var body = Json.json().createObjectNode();
        body.put("display_name", "hourly");
        body.set("pipeline_spec", Json.yaml().readTree(TWO_STEPS));
        body.putObject("trigger").putObject("cron_schedule").put("cron", "0 0 * * * *");
        var created = ok(server.post("/recurringruns", body.toString())).json();
        var id = created.path("recurring_run_id").asText();
        var first = Instant.parse(created.path("updated_at").asText());

        ok(server.post("/recurringruns/" + id + ":disable", null));
        var disabled = ok(server.get("/recurringruns/" + id)).json();
        assertThat(disabled.path("status").asText()).isEqualTo("DISABLED");
        var second = Instant.parse(disabled.path("updated_at").asText());
        assertThat(second).isAfter(first);

        ok(server.post("/recurringruns/" + id + ":enable", null));
        var enabled = ok(server.get("/recurringruns/" + id)).json();
        assertThat(enabled.path("status").asText()).isEqualTo("ENABLED");
        assertThat(Instant.parse(enabled.path("updated_at").asText())).isAfter(second);
        assertThat(enabled.path("created_at").asText()).isEqualTo(created.path("created_at").asText());
        ok(server.delete("/recurringruns/" + id));
    }

    /** Each endpoint the API serves, successes and failures, checked against the swagger by the client. */
    @Test
    void everyEndpointAnswersInTheSwaggersShape() throws Exception {
        var health = ok(server.get("/healthz")).json();
        assertThat(health.path("multi_user").asBoolean(true)).isFalse();
        assertThat(health.path("pipeline_store").asText()).isEqualTo("database");
        assertThat(health.path(SwaggerSchema.EXTENSION).path("tag_name").asText()).isNotEmpty();

        // Pipelines and versions.
        var json = new HashSet<String>();
        var pipeline = ok(server.post("/pipelines", "{\"display_name\": \"shapes\", \"description\": \"d\"}")).json();
        var pipelineId = pipeline.path("pipeline_id").asText();
        var version = ok(server.post("/pipelines/" + pipelineId + "/versions", "{\"display_name\": \"v1\", \"pipeline_spec\": "
                + Json.json().writeValueAsString(Json.yaml().readTree(TWO_STEPS)) + "}")).json();
        var versionId = version.path("pipeline_version_id").asText();
        ok(server.upload("/pipelines/upload_version?pipelineid=" + pipelineId + "&name=v2", "v2.yaml", TWO_STEPS.getBytes(StandardCharsets.UTF_8)));
        var both = Json.json().createObjectNode();
        both.putObject("pipeline").put("display_name", "shapes-2");
        both.putObject("pipeline_version").put("display_name", "first").set("pipeline_spec", Json.yaml().readTree(TWO_STEPS));
        var second = ok(server.post("/pipelines/create", both.toString())).json();
        ok(server.get("/pipelines"));
        ok(server.get("/pipelines?page_size=1"));
        ok(server.get("/pipelines/" + pipelineId));
        ok(server.get("/pipelines/names/shapes"));
        assertThat(ok(server.get("/pipelines/" + pipelineId + "/versions")).json().path("total_size").asInt()).isEqualTo(2);
        assertThat(ok(server.get("/pipelines/" + pipelineId + "/versions/" + versionId)).json().path("pipeline_spec").isObject()).isTrue();
        json.add(ok(server.delete("/pipelines/" + second.path("pipeline_id").asText() + "?cascade=true")).body());

        // Experiments.
        var experimentId = ok(server.post("/experiments", "{\"display_name\": \"shapes\"}")).json().path("experiment_id").asText();
        ok(server.get("/experiments"));
        ok(server.get("/experiments/" + experimentId));

        // Runs, in that experiment.
        var run = ok(server.post("/runs", """
                {"display_name": "shaped", "experiment_id": "%s",
                 "pipeline_version_reference": {"pipeline_id": "%s", "pipeline_version_id": "%s"}}""".formatted(experimentId, pipelineId, versionId))).json();
        var runId = run.path("run_id").asText();
        server.await("/runs/" + runId, r -> KfpApiTest.TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(90));
        assertThat(ok(server.get("/runs?experiment_id=" + experimentId)).json().path("runs")).hasSize(1);
        ok(server.get("/runs?page_size=1&sort_by=created_at%20desc"));
        json.add(ok(server.post("/runs/" + runId + ":archive", null)).body());
        json.add(ok(server.post("/runs/" + runId + ":unarchive", null)).body());
        json.add(ok(server.post("/experiments/" + experimentId + ":archive", null)).body());
        json.add(ok(server.post("/experiments/" + experimentId + ":unarchive", null)).body());
        var sleeper = ok(server.post("/runs", KfpApiTest.runBody(KfpApiTest.inline(KfpApiTest.shellPipeline("sleeper", "sleep 30")), "sleeper"))).json();
        var sleeperId = sleeper.path("run_id").asText();
        json.add(ok(server.post("/runs/" + sleeperId + ":terminate", null)).body());
        server.await("/runs/" + sleeperId, r -> KfpApiTest.TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(30));
        json.add(ok(server.post("/runs/" + sleeperId + ":retry", null)).body());
        json.add(ok(server.post("/runs/" + sleeperId + ":terminate", null)).body());
        server.await("/runs/" + sleeperId, r -> KfpApiTest.TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(30));

        // Recurring runs.
        var body = Json.json().createObjectNode();
        body.put("display_name", "shapes-recurring");
        body.put("experiment_id", experimentId);
        body.putObject("pipeline_version_reference").put("pipeline_id", pipelineId).put("pipeline_version_id", versionId);
        body.putObject("trigger").putObject("periodic_schedule").put("interval_second", "3600").put("start_time", "2030-01-01T00:00:00Z");
        var recurring = ok(server.post("/recurringruns", body.toString())).json();
        var recurringId = recurring.path("recurring_run_id").asText();
        assertThat(recurring.path("max_concurrency").asText()).isEqualTo("1");
        ok(server.get("/recurringruns"));
        ok(server.get("/recurringruns?experiment_id=" + experimentId));
        ok(server.get("/recurringruns/" + recurringId));
        json.add(ok(server.post("/recurringruns/" + recurringId + ":disable", null)).body());
        json.add(ok(server.post("/recurringruns/" + recurringId + ":enable", null)).body());

        // Deletes.
        json.add(ok(server.delete("/recurringruns/" + recurringId)).body());
        json.add(ok(server.delete("/runs/" + runId)).body());
        json.add(ok(server.delete("/runs/" + sleeperId)).body());
        json.add(ok(server.delete("/experiments/" + experimentId)).body());
        json.add(ok(server.delete("/pipelines/" + pipelineId + "/versions/" + versionId)).body());
        json.add(ok(server.delete("/pipelines/" + pipelineId + "?cascade=true")).body());
        assertThat(json).as("every empty answer is the empty object").containsExactly("{}");

        // Errors, one or more per family; the client checks each against googleRpcStatus.
        var errors = List.of(
                server.get("/pipelines/" + MISSING), server.get("/pipelines/names/nope"), server.delete("/pipelines/" + MISSING),
                server.get("/pipelines/" + MISSING + "/versions"), server.get("/pipelines/" + MISSING + "/versions/" + MISSING),
                server.post("/pipelines", "{}"), server.post("/pipelines/" + MISSING + "/versions", "{}"),
                server.post("/pipelines/create", "{}"), server.upload("/pipelines/upload_version", "x.yaml", new byte[] {'x'}),
                server.get("/experiments/" + MISSING), server.post("/experiments", "{\"display_name\": "),
                server.post("/experiments/" + MISSING + ":archive", null), server.delete("/experiments/" + MISSING),
                server.get("/runs/" + MISSING), server.post("/runs", "{}"), server.post("/runs/" + MISSING + ":retry", null),
                server.get("/runs?sort_by=colour"), server.delete("/runs/" + MISSING),
                server.get("/recurringruns/" + MISSING), server.post("/recurringruns", "{\"display_name\": \"x\"}"),
                server.post("/recurringruns/" + MISSING + ":enable", null), server.delete("/recurringruns/" + MISSING),
                server.get("/gizmos"));
        for (var e : errors) {
            assertThat(e.status()).as(e.body()).isIn(400, 404, 409);
            var error = e.json();
            assertThat(error.path("code").asInt()).isIn(3, 5, 6);
            assertThat(error.path("message").asText()).isNotBlank();
            assertThat(error.path("details").isArray()).isTrue();
        }
        assertThat(Set.copyOf(errors.stream().map(KfpTestServer.Reply::status).toList())).contains(400, 404);
    }
}
