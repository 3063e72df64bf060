package io.capstan.server.kfp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KFP's v2beta1 API against a real server: the calls KFP's own client makes, and its error shape. */
class KfpApiTest {
    static final Path CORPUS = Conformance.path("kubeflow-pipelines/test_data/sdk_compiled_pipelines/valid");
    static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELED");

    @TempDir
    static Path home;
    static KfpTestServer server;

    @BeforeAll
    static void start() {
        server = new KfpTestServer(home);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A one-step pipeline whose step runs {@code script} under sh; cached when {@code cache} holds. */
    static String shellPipeline(String name, String script) {
        return """
                pipelineInfo: {name: %s}
                schemaVersion: 2.1.0
                sdkVersion: kfp-2.14.6
                components:
                  comp-step: {executorLabel: exec-step}
                deploymentSpec:
                  executors:
                    exec-step: {container: {image: alpine, command: [sh, -c, '%s']}}
                root:
                  dag:
                    tasks:
                      step: {componentRef: {name: comp-step}, taskInfo: {name: step}, cachingOptions: {enableCache: true}}
                """.formatted(name, script);
    }

    static JsonNode inline(String yaml) throws Exception {
        return Json.yaml().readTree(yaml);
    }

    static String runBody(JsonNode pipelineSpec, String displayName) {
        var body = Json.json().createObjectNode();
        body.put("display_name", displayName);
        body.set("pipeline_spec", pipelineSpec);
        return body.toString();
    }

    static String filter(String key, String op, String value) {
        var f = "{\"predicates\":[{\"key\":\"" + key + "\",\"operation\":\"" + op + "\",\"string_value\":\"" + value + "\"}]}";
        return URLEncoder.encode(f, StandardCharsets.UTF_8);
    }

    @Test
    void anUploadedCorpusPipelineRunsInAnExperimentToSucceeded() throws Exception {
        var file = Conformance.require(CORPUS.resolve("hello_world.yaml"));
        var uploaded = server.upload("/pipelines/upload?name=hello-world&description=from+the+corpus", "hello_world.yaml", Files.readAllBytes(file));
        assertThat(uploaded.status()).as(uploaded.body()).isEqualTo(200);
        var pipelineId = uploaded.json().path("pipeline_id").asText();
        assertThat(server.get("/pipelines/names/hello-world").json().path("pipeline_id").asText()).isEqualTo(pipelineId);
        var versions = server.get("/pipelines/" + pipelineId + "/versions").json();
        assertThat(versions.path("total_size").asInt()).isEqualTo(1);
        var versionId = versions.path("pipeline_versions").get(0).path("pipeline_version_id").asText();
        assertThat(server.get("/pipelines/" + pipelineId + "/versions/" + versionId).json().path("pipeline_spec").path("pipelineInfo").path("name").asText())
                .isEqualTo("echo");

        var experiment = server.post("/experiments", "{\"display_name\": \"kfp-api-test\", \"description\": \"d\"}");
        assertThat(experiment.status()).as(experiment.body()).isEqualTo(200);
        var experimentId = experiment.json().path("experiment_id").asText();

        var created = server.post("/runs", """
                {"display_name": "hello", "experiment_id": "%s",
                 "pipeline_version_reference": {"pipeline_id": "%s", "pipeline_version_id": "%s"},
                 "runtime_config": {"parameters": {"text": "hi there"}}}""".formatted(experimentId, pipelineId, versionId));
        assertThat(created.status()).as(created.body()).isEqualTo(200);
        var runId = created.json().path("run_id").asText();
        var run = server.await("/runs/" + runId, r -> TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(90));
        assertThat(run.path("state").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
        assertThat(run.path("experiment_id").asText()).isEqualTo(experimentId);
        assertThat(run.path("runtime_config").path("parameters").path("text").asText()).isEqualTo("hi there");
        assertThat(run.path("finished_at").asText()).isNotEmpty();
        var echo = new ArrayList<JsonNode>();
        run.path("run_details").path("task_details").forEach(t -> {
            if (t.path("display_name").asText().equals("echo")) echo.add(t);
        });
        assertThat(echo).hasSize(1);
        assertThat(echo.getFirst().path("state").asText()).isIn("SUCCEEDED", "SKIPPED");
        assertThat(echo.getFirst().path("start_time").asText()).isNotEmpty();
        assertThat(echo.getFirst().path("end_time").asText()).isNotEmpty();

        var logs = server.get("/runs/" + runId + "/logs?task=echo");
        assertThat(logs.status()).isEqualTo(200);
        assertThat(logs.body()).contains("==> root/echo <==").contains("hello world");
        var inExperiment = server.get("/runs?experiment_id=" + experimentId).json();
        assertThat(inExperiment.path("runs")).hasSize(1);
        assertThat(server.get("/runs?filter=" + filter("state", "EQUALS", "SUCCEEDED")).json().path("runs").toString()).contains(runId);
    }

    @Test
    void listsPageWithoutDuplicatesOrGapsAndFilter() {
        var ids = new HashSet<String>();
        for (int i = 0; i < 7; i++) {
            var r = server.post("/experiments", "{\"display_name\": \"paged-" + i + "\"}");
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            ids.add(r.json().path("experiment_id").asText());
        }
        for (var sort : new String[] {"created_at", "created_at%20desc", "name"}) {
            var seen = new ArrayList<String>();
            var token = "";
            int pages = 0;
            do {
                var page = server.get("/experiments?page_size=3&sort_by=" + sort + "&filter=" + filter("display_name", "IS_SUBSTRING", "paged-")
                        + (token.isEmpty() ? "" : "&page_token=" + token)).json();
                assertThat(page.path("total_size").asInt()).isEqualTo(7);
                page.path("experiments").forEach(e -> seen.add(e.path("experiment_id").asText()));
                token = page.path("next_page_token").asText("");
                pages++;
            } while (!token.isEmpty() && pages < 10);
            assertThat(pages).isEqualTo(3);
            assertThat(seen).hasSize(7).doesNotHaveDuplicates();
            assertThat(new HashSet<>(seen)).isEqualTo(ids);
        }
        var one = server.get("/experiments?filter=" + filter("display_name", "EQUALS", "paged-3")).json();
        assertThat(one.path("experiments")).hasSize(1);
        assertThat(one.path("experiments").get(0).path("display_name").asText()).isEqualTo("paged-3");
        // KFP's Python client writes the proto3 JSON names, such as stringValue.
        var camel = URLEncoder.encode("{\"predicates\":[{\"key\":\"display_name\",\"operation\":\"EQUALS\",\"stringValue\":\"paged-2\"}]}",
                StandardCharsets.UTF_8);
        assertThat(server.get("/experiments?filter=" + camel).json().path("experiments")).hasSize(1);
        var since = URLEncoder.encode("{\"predicates\":[{\"key\":\"created_at\",\"operation\":\"GREATER_THAN_EQUALS\",\"timestamp_value\":\"2000-01-01T00:00:00Z\"},"
                + "{\"key\":\"display_name\",\"operation\":\"IN\",\"string_values\":{\"values\":[\"paged-1\",\"paged-5\"]}}]}", StandardCharsets.UTF_8);
        assertThat(server.get("/experiments?filter=" + since).json().path("total_size").asInt()).isEqualTo(2);
        var names = server.get("/experiments?sort_by=name%20desc&filter=" + filter("display_name", "IS_SUBSTRING", "paged-")).json();
        assertThat(names.path("experiments").get(0).path("display_name").asText()).isEqualTo("paged-6");
    }

    @Test
    void aTerminatedRunEndsCanceled() throws Exception {
        var created = server.post("/runs", runBody(inline(shellPipeline("sleeper", "sleep 30")), "sleeper"));
        assertThat(created.status()).as(created.body()).isEqualTo(200);
        var runId = created.json().path("run_id").asText();
        server.await("/runs/" + runId, r -> r.path("state").asText().equals("RUNNING"), Duration.ofSeconds(30));
        assertThat(server.post("/runs/" + runId + ":terminate", null).status()).isEqualTo(200);
        var run = server.await("/runs/" + runId, r -> TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(20));
        assertThat(run.path("state").asText()).isEqualTo("CANCELED");
        assertThat(run.path("run_details").path("task_details").toString()).contains("CANCELED");
    }

    @Test
    void archivingAnExperimentArchivesItsRuns() throws Exception {
        var experimentId = server.post("/experiments", "{\"display_name\": \"to-archive\"}").json().path("experiment_id").asText();
        var body = (com.fasterxml.jackson.databind.node.ObjectNode) Json.json().readTree(runBody(inline(shellPipeline("quick", "true")), "quick"));
        body.put("experiment_id", experimentId);
        var runId = server.post("/runs", body.toString()).json().path("run_id").asText();
        assertThat(server.post("/experiments/" + experimentId + ":archive", null).status()).isEqualTo(200);
        assertThat(server.get("/experiments/" + experimentId).json().path("storage_state").asText()).isEqualTo("ARCHIVED");
        assertThat(server.get("/runs/" + runId).json().path("storage_state").asText()).isEqualTo("ARCHIVED");
        assertThat(server.get("/experiments?filter=" + filter("storage_state", "EQUALS", "ARCHIVED")).json().path("experiments").toString())
                .contains(experimentId);
        assertThat(server.post("/experiments/" + experimentId + ":unarchive", null).status()).isEqualTo(200);
        assertThat(server.get("/experiments/" + experimentId).json().path("storage_state").asText()).isEqualTo("AVAILABLE");
        assertThat(server.post("/runs/" + runId + ":unarchive", null).status()).isEqualTo(200);
        assertThat(server.get("/runs/" + runId).json().path("storage_state").asText()).isEqualTo("AVAILABLE");
        assertThat(server.delete("/runs/" + runId).status()).isEqualTo(200);
        assertThat(server.get("/runs/" + runId).status()).isEqualTo(404);
    }

    @Test
    void aRetriedRunReusesSucceededTasksAndRerunsTheFailedOne(@TempDir Path dir) throws Exception {
        var marker = dir.resolve("ready");
        var yaml = """
                pipelineInfo: {name: flaky}
                schemaVersion: 2.1.0
                components:
                  comp-first: {executorLabel: exec-first}
                  comp-second: {executorLabel: exec-second}
                deploymentSpec:
                  executors:
                    exec-first: {container: {image: alpine, command: [sh, -c, 'echo first-%s']}}
                    exec-second: {container: {image: alpine, command: [sh, -c, 'test -f %s']}}
                root:
                  dag:
                    tasks:
                      first: {componentRef: {name: comp-first}, taskInfo: {name: first}, cachingOptions: {enableCache: true}}
                      second: {componentRef: {name: comp-second}, taskInfo: {name: second}, dependentTasks: [first], cachingOptions: {enableCache: true}}
                """.formatted(dir.getFileName(), marker);
        var runId = server.post("/runs", runBody(inline(yaml), "flaky")).json().path("run_id").asText();
        var failed = server.await("/runs/" + runId, r -> TERMINAL.contains(r.path("state").asText()), Duration.ofSeconds(60));
        assertThat(failed.path("state").asText()).isEqualTo("FAILED");
        Files.writeString(marker, "ok");
        var retry = server.post("/runs/" + runId + ":retry", null);
        assertThat(retry.status()).as(retry.body()).isEqualTo(200);
        var run = server.await("/runs/" + runId, r -> r.path("state").asText().equals("SUCCEEDED"), Duration.ofSeconds(60));
        var first = new ArrayList<JsonNode>();
        run.path("run_details").path("task_details").forEach(t -> {
            if (t.path("display_name").asText().equals("first")) first.add(t);
        });
        assertThat(first.getFirst().path("state").asText()).as(run.toString()).isEqualTo("SKIPPED");
        assertThat(first.getFirst().path(SwaggerSchema.EXTENSION).path("cache_state").asText()).as(run.toString()).isEqualTo("CACHED");
        assertThat(server.get("/runs?filter=" + filter("display_name", "EQUALS", "flaky")).json().path("runs")).hasSize(1);
    }

    @Test
    void aPeriodicRecurringRunStartsRunsOneAtATimeAndStopsWhenDisabled() throws Exception {
        var body = Json.json().createObjectNode();
        body.put("display_name", "every-second");
        body.set("pipeline_spec", inline(shellPipeline("tick", "sleep 1")));
        body.putObject("trigger").putObject("periodic_schedule").put("interval_second", "1");
        body.put("max_concurrency", "1");
        var created = server.post("/recurringruns", body.toString());
        assertThat(created.status()).as(created.body()).isEqualTo(200);
        var id = created.json().path("recurring_run_id").asText();
        var byRecurring = "/runs?filter=" + filter("recurring_run_id", "EQUALS", id);
        server.await(byRecurring, r -> r.path("total_size").asInt() >= 2, Duration.ofSeconds(60));
        for (var r : server.get(byRecurring).json().path("runs")) {
            assertThat(r.path("recurring_run_id").asText()).isEqualTo(id);
        }
        long running = 0;
        for (var r : server.get(byRecurring).json().path("runs")) if (!TERMINAL.contains(r.path("state").asText())) running++;
        assertThat(running).isLessThanOrEqualTo(1);
        assertThat(server.post("/recurringruns/" + id + ":disable", null).status()).isEqualTo(200);
        assertThat(server.get("/recurringruns/" + id).json().path("status").asText()).isEqualTo("DISABLED");
        // A tick that was being scheduled as the disable landed may still start; after that, nothing more.
        int settled = countAfter(byRecurring, Duration.ofMillis(1500));
        int later = countAfter(byRecurring, Duration.ofSeconds(3));
        assertThat(later).isEqualTo(settled).isGreaterThanOrEqualTo(2);
    }

    /** The number of runs {@code path} lists once {@code wait} has passed, waiting by polling with a deadline. */
    private static int countAfter(String path, Duration wait) {
        var until = java.time.Instant.now().plus(wait);
        return server.await(path, r -> java.time.Instant.now().isAfter(until), wait.plusSeconds(10)).path("total_size").asInt();
    }

    @Test
    void badInputGetsKfpErrorsNamingTheProblem() {
        var malformed = server.post("/experiments", "{\"display_name\": ");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.json().path("code").asInt()).isEqualTo(3);
        assertThat(malformed.json().path("message").asText()).contains("not valid JSON");
        assertThat(malformed.json().has("error")).as("googleRpcStatus has code, message and details only").isFalse();
        assertThat(malformed.json().path("details").isArray()).isTrue();

        var missing = server.get("/pipelines/0b6f1f64-1111-4c4c-9a9a-123456789abc");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().path("code").asInt()).isEqualTo(5);
        var runOfMissing = server.post("/runs", "{\"display_name\": \"x\", \"pipeline_version_reference\": {\"pipeline_id\": \"nope\"}}");
        assertThat(runOfMissing.status()).isEqualTo(404);

        var invalid = server.upload("/pipelines/upload?name=cyclic", "cyclic.yaml", """
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
                """.getBytes(StandardCharsets.UTF_8));
        assertThat(invalid.status()).as(invalid.body()).isEqualTo(400);
        assertThat(invalid.json().path("message").asText()).containsIgnoringCase("cycle");
        assertThat(server.get("/pipelines/names/cyclic").status()).isEqualTo(404);

        var unknown = server.get("/gizmos");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("code").asInt()).isEqualTo(5);
        assertThat(server.post("/runs/" + "0b6f1f64-1111-4c4c-9a9a-123456789abc:explode", null).json().path("message").asText()).contains("explode");

        var badFilter = server.get("/runs?filter=" + URLEncoder.encode("{\"predicates\":[{\"key\":\"colour\",\"operation\":\"EQUALS\",\"string_value\":\"x\"}]}", StandardCharsets.UTF_8));
        assertThat(badFilter.status()).isEqualTo(400);
        assertThat(badFilter.json().path("message").asText()).contains("colour");
        assertThat(server.get("/runs?filter=%7Bnot-json").status()).isEqualTo(400);
        assertThat(server.get("/runs?sort_by=colour").status()).isEqualTo(400);
        assertThat(server.get("/runs?page_token=%21%21").status()).isEqualTo(400);

        var huge = new byte[5 * 1024 * 1024];
        java.util.Arrays.fill(huge, (byte) 'a');
        assertThat(server.upload("/pipelines/upload?name=huge", "huge.yaml", huge).status()).isEqualTo(413);
    }

    @Test
    void healthzReportsTheVersion() {
        var h = server.get("/healthz").json();
        assertThat(h.path(SwaggerSchema.EXTENSION).path("tag_name").asText()).isNotEmpty();
        assertThat(h.path("multi_user").asBoolean(true)).isFalse();
    }
}
