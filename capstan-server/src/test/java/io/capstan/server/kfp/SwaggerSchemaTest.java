package io.capstan.server.kfp;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The swagger checker that guards every KFP answer in the tests: it must catch what a generated client trips on. */
class SwaggerSchemaTest {
    static SwaggerSchema swagger;

    @BeforeAll
    static void load() {
        var loaded = SwaggerSchema.load();
        Conformance.require(SwaggerSchema.SWAGGER);
        swagger = loaded.get();
    }

    static JsonNode json(String text) throws Exception {
        return Json.json().readTree(text);
    }

    static JsonNode run() {
        return swagger.responseSchema("GET", "/runs/abc", 200).orElseThrow();
    }

    @Test
    void findsTheDeclaredSchemaOfEachEndpointIncludingCustomMethods() {
        assertThat(run().path("$ref").asText()).isEqualTo("#/definitions/v2beta1Run");
        assertThat(swagger.responseSchema("GET", "/runs", 200).orElseThrow().path("$ref").asText()).endsWith("v2beta1ListRunsResponse");
        assertThat(swagger.responseSchema("POST", "/recurringruns/abc:disable", 200).orElseThrow().path("properties").isEmpty()).isTrue();
        assertThat(swagger.responseSchema("GET", "/pipelines/names/x", 200).orElseThrow().path("$ref").asText()).endsWith("v2beta1Pipeline");
        assertThat(swagger.responseSchema("GET", "/pipelines/p/versions/v", 404).orElseThrow().path("$ref").asText()).endsWith("googleRpcStatus");
        assertThat(swagger.operation("GET", "/runs/abc/logs")).isEmpty();
        assertThat(swagger.responseSchema("GET", "/gizmos", 404).orElseThrow()).isEqualTo(swagger.definition("googleRpcStatus"));
    }

    @Test
    void acceptsAConformingRunWithTaskDetailsAndTheExtensionField() throws Exception {
        var body = json("""
                {"run_id": "r", "display_name": "d", "state": "SUCCEEDED", "storage_state": "AVAILABLE",
                 "created_at": "2026-01-02T03:04:05.123456Z", "runtime_config": {"parameters": {"a": 1, "b": {"c": [1]}}},
                 "pipeline_spec": {"anything": {"goes": null}},
                 "state_history": [{"update_time": "2026-01-02T03:04:05Z", "state": "RUNNING"}],
                 "run_details": {"pipeline_run_context_id": "12", "task_details": [{"task_id": "root/a", "execution_id": "7",
                   "inputs": {"data": {"artifact_ids": ["3", "4"]}}, "outputs": {},
                   "child_tasks": [{"task_id": "root/b"}], "executor_detail": {"main_job": "w-1"},
                   "x_capstan": {"cache_state": "CACHED", "whatever": [1, 2]}}]}}""");
        assertThat(swagger.violations(run(), body)).isEmpty();
    }

    @Test
    void reportsEachMismatchAGeneratedClientWouldTripOn() throws Exception {
        var body = json("""
                {"run_id": 5, "state": "CACHED", "created_at": "yesterday", "colour": "red",
                 "run_details": {"task_details": [{"execution_id": 7, "inputs": {"parameters": {"text": "hi"}},
                   "outputs": {"data": {"artifact_ids": ["x1"]}}}]},
                 "error": {"code": "3", "details": {}}}""");
        assertThat(swagger.violations(run(), body)).containsExactlyInAnyOrder(
                "$.run_id: expected a string, got NUMBER 5",
                "$.state: \"CACHED\" is not one of [\"RUNTIME_STATE_UNSPECIFIED\",\"PENDING\",\"RUNNING\",\"SUCCEEDED\",\"SKIPPED\",\"FAILED\",\"CANCELING\",\"CANCELED\",\"PAUSED\"]",
                "$.created_at: 'yesterday' is not an RFC 3339 date-time",
                "$.colour: not a field the swagger declares",
                "$.run_details.task_details[0].execution_id: expected a string (int64), got NUMBER 7",
                "$.run_details.task_details[0].inputs.parameters.text: not a field the swagger declares",
                "$.run_details.task_details[0].outputs.data.artifact_ids[0]: 'x1' is not an int64 written as a decimal string",
                "$.error.code: expected an integer, got \"3\"",
                "$.error.details: expected an array, got OBJECT");
    }

    @Test
    void theErrorShapeIsGoogleRpcStatusWithNothingElse() throws Exception {
        var schema = swagger.responseSchema("POST", "/experiments", 400).orElseThrow();
        assertThat(swagger.violations(schema, json("{\"code\": 3, \"message\": \"m\", \"details\": []}"))).isEmpty();
        assertThat(swagger.violations(schema, json("{\"error\": \"m\", \"code\": 3, \"message\": \"m\", \"details\": []}")))
                .containsExactly("$.error: not a field the swagger declares");
    }

    @Test
    void anEmptyAnswerMayCarryNothing() throws Exception {
        var schema = swagger.responseSchema("DELETE", "/runs/abc", 200).orElseThrow();
        assertThat(swagger.violations(schema, json("{}"))).isEmpty();
        assertThat(swagger.violations(schema, json("{\"ok\": true}"))).containsExactly("$.ok: not a field the swagger declares");
    }
}
