package io.capstan.server;

import static io.capstan.server.TenancyMatrixTest.kfamBinding;
import static io.capstan.server.TenancyMatrixTest.ok;
import static io.capstan.server.TenancyMatrixTest.profile;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KFP's objects in their own namespaces, through the real server: alice (edit in team-a) creates an experiment and
 * a run there, bob (view) reads but cannot write, carol (nothing there) is refused the namespace's lists and finds
 * none of its ids, and the server admin sees every namespace.
 */
class KfpTenancyTest {
    static final String NS = "team-a";
    static final String K = "/apis/v2beta1";
    static final String ALICE = "alice@example.com";
    static final String BOB = "bob@example.com";
    static final String CAROL = "carol@example.com";

    static final String PIPELINE = """
            {"pipelineInfo": {"name": "hello"}, "schemaVersion": "2.1.0", "sdkVersion": "kfp-2.13.0",
             "root": {"dag": {"tasks": {"produce": {"componentRef": {"name": "comp-produce"}, "taskInfo": {"name": "produce"}}}}},
             "components": {"comp-produce": {"executorLabel": "exec-produce",
               "outputDefinitions": {"artifacts": {"data": {"artifactType": {"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"}}}}}},
             "deploymentSpec": {"executors": {"exec-produce": {"container": {"image": "python:3.11", "command": ["sh", "-c"],
               "args": ["echo hello-from-team-a; printf data > {{$.outputs.artifacts['data'].path}}"]}}}}}
            """;

    @TempDir
    static Path home;
    static TestServer server;
    static String alice;
    static String bob;
    static String carol;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        alice = server.server.tokens().createUserToken(ALICE, Optional.empty(), "").token();
        bob = server.server.tokens().createUserToken(BOB, Optional.empty(), "").token();
        carol = server.server.tokens().createUserToken(CAROL, Optional.empty(), "").token();
        ok(server.apply(profile(NS, "owner@example.com")));
        ok(server.apply(profile("team-c", CAROL)));
        ok(server.apply(kfamBinding(NS, ALICE, "edit") + "---\n" + kfamBinding(NS, BOB, "view")));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static TestServer.Reply as(String token, String method, String path, String body) {
        return server.sendAs(token, method, path, body, body == null ? null : "application/json");
    }

    static JsonNode okJson(TestServer.Reply reply) {
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    static List<String> ids(JsonNode list, String field, String id) {
        var out = new ArrayList<String>();
        list.path(field).forEach(e -> out.add(e.path(id).asText()));
        return out;
    }

    @Test
    void experimentsAndRunsLiveInTheirNamespaceAndFollowItsAccess() {
        var experiment = okJson(as(alice, "POST", K + "/experiments", "{\"display_name\": \"alice-exp\", \"namespace\": \"" + NS + "\"}"));
        var experimentId = experiment.path("experiment_id").asText();
        assertThat(experiment.path("namespace").asText()).isEqualTo(NS);
        // Stored in team-a itself, not in default.
        okJson(server.get("/apis/capstan/v1/namespaces/" + NS + "/pipelineexperiments/" + experimentId));
        assertThat(server.get("/apis/capstan/v1/namespaces/default/pipelineexperiments/" + experimentId).status()).isEqualTo(404);

        var run = okJson(as(alice, "POST", K + "/runs", "{\"display_name\": \"alice-run\", \"experiment_id\": \"" + experimentId
                + "\", \"pipeline_spec\": " + PIPELINE + "}"));
        var runId = run.path("run_id").asText();
        var done = server.await("/apis/capstan/v1/namespaces/" + NS + "/pipelineruns/" + runId,
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(90));
        assertThat(done.path("status").path("phase").asText()).as(done.toString()).isEqualTo("Succeeded");

        // alice and bob see both, with and without a namespace; GET by id answers them.
        for (var token : List.of(alice, bob)) {
            assertThat(ids(okJson(as(token, "GET", K + "/experiments?namespace=" + NS, null)), "experiments", "experiment_id")).contains(experimentId);
            var everywhere = okJson(as(token, "GET", K + "/experiments", null));
            assertThat(ids(everywhere, "experiments", "experiment_id")).contains(experimentId);
            assertThat(ids(everywhere, "experiments", "namespace")).containsOnly(NS);
            assertThat(ids(okJson(as(token, "GET", K + "/runs?namespace=" + NS, null)), "runs", "run_id")).contains(runId);
            assertThat(ids(okJson(as(token, "GET", K + "/runs?experiment_id=" + experimentId, null)), "runs", "run_id")).containsExactly(runId);
            assertThat(okJson(as(token, "GET", K + "/runs/" + runId, null)).path("state").asText()).isEqualTo("SUCCEEDED");
            assertThat(okJson(as(token, "GET", K + "/experiments/" + experimentId, null)).path("display_name").asText()).isEqualTo("alice-exp");
            var logs = as(token, "GET", K + "/runs/" + runId + "/logs", null);
            assertThat(logs.status()).isEqualTo(200);
            assertThat(logs.body()).contains("hello-from-team-a");
            assertThat(okJson(as(token, "GET", "/apis/capstan/v1/namespaces/" + NS + "/pipelineruns/" + runId + "/artifacts", null)).toString())
                    .contains("data");
        }

        // bob may read, not write: 403 naming the namespace and role.
        var bobCreate = as(bob, "POST", K + "/experiments", "{\"display_name\": \"bob-exp\", \"namespace\": \"" + NS + "\"}");
        assertThat(bobCreate.status()).isEqualTo(403);
        assertThat(bobCreate.body()).contains(NS).contains("kubeflow-edit");
        assertThat(as(bob, "POST", K + "/runs", "{\"experiment_id\": \"" + experimentId + "\", \"pipeline_spec\": " + PIPELINE + "}").status()).isEqualTo(403);
        assertThat(as(bob, "POST", K + "/runs/" + runId + ":archive", "").status()).isEqualTo(403);
        assertThat(as(bob, "DELETE", K + "/experiments/" + experimentId, null).status()).isEqualTo(403);

        // carol: 403 on team-a's lists, 404 on its ids (which do not tell her they exist), nothing of it without a namespace.
        assertThat(as(carol, "GET", K + "/experiments?namespace=" + NS, null).status()).isEqualTo(403);
        assertThat(as(carol, "GET", K + "/runs?namespace=" + NS, null).status()).isEqualTo(403);
        assertThat(as(carol, "GET", K + "/recurringruns?namespace=" + NS, null).status()).isEqualTo(403);
        assertThat(ids(okJson(as(carol, "GET", K + "/runs", null)), "runs", "run_id")).doesNotContain(runId);
        assertThat(ids(okJson(as(carol, "GET", K + "/experiments", null)), "experiments", "experiment_id")).doesNotContain(experimentId);
        var unknown = as(carol, "GET", K + "/runs/00000000-0000-0000-0000-000000000000", null);
        for (var path : List.of("/runs/" + runId, "/runs/" + runId + "/logs", "/experiments/" + experimentId,
                "/runs?experiment_id=" + experimentId)) {
            var reply = as(carol, "GET", K + path, null);
            assertThat(reply.status()).as(path).isEqualTo(404);
            assertThat(reply.body()).as(path).doesNotContain(NS);
        }
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(as(carol, "POST", K + "/runs/" + runId + ":terminate", "").status()).isEqualTo(404);
        assertThat(as(carol, "DELETE", K + "/experiments/" + experimentId, null).status()).isEqualTo(404);
        // Nor may she start a run in alice's experiment from her own namespace.
        assertThat(as(carol, "POST", K + "/runs", "{\"experiment_id\": \"" + experimentId + "\", \"pipeline_spec\": " + PIPELINE + "}").status())
                .isEqualTo(404);
        assertThat(as(carol, "GET", "/apis/capstan/v1/namespaces/" + NS + "/pipelineruns/" + runId + "/artifacts", null).status()).isEqualTo(403);

        // carol works in her own namespace, and alice does not see it.
        var carolExp = okJson(as(carol, "POST", K + "/experiments", "{\"display_name\": \"alice-exp\", \"namespace\": \"team-c\"}"))
                .path("experiment_id").asText();
        assertThat(ids(okJson(as(alice, "GET", K + "/experiments", null)), "experiments", "namespace")).containsOnly(NS);
        assertThat(as(alice, "GET", K + "/experiments/" + carolExp, null).status()).isEqualTo(404);

        // The server admin sees every namespace; a namespace names one.
        var all = ids(okJson(server.get(K + "/experiments")), "experiments", "experiment_id");
        assertThat(all).contains(experimentId, carolExp);
        assertThat(ids(okJson(server.get(K + "/experiments?namespace=team-c")), "experiments", "experiment_id")).containsExactly(carolExp);
        assertThat(ids(okJson(server.get(K + "/runs")), "runs", "run_id")).contains(runId);
    }

    @Test
    void aRunWithoutAnExperimentGoesToTheNamespaceItNamesAndARecurringRunToItsExperiments() {
        var run = okJson(as(alice, "POST", K + "/runs?namespace=" + NS, "{\"display_name\": \"loose\", \"pipeline_spec\": " + PIPELINE + "}"));
        okJson(server.get("/apis/capstan/v1/namespaces/" + NS + "/pipelineruns/" + run.path("run_id").asText()));
        // Without a namespace it is default's, the server admin's alone.
        assertThat(as(alice, "POST", K + "/runs", "{\"pipeline_spec\": " + PIPELINE + "}").status()).isEqualTo(403);

        var experimentId = okJson(as(alice, "POST", K + "/experiments", "{\"display_name\": \"scheduled\", \"namespace\": \"" + NS + "\"}"))
                .path("experiment_id").asText();
        // An experiment and another namespace: refused naming the field.
        var mismatch = as(alice, "POST", K + "/recurringruns", recurring(experimentId, "default"));
        assertThat(mismatch.status()).isEqualTo(400);
        assertThat(mismatch.body()).contains("namespace");
        var rr = okJson(as(alice, "POST", K + "/recurringruns", recurring(experimentId, "")));
        assertThat(rr.path("namespace").asText()).isEqualTo(NS);
        var rrId = rr.path("recurring_run_id").asText();
        assertThat(ids(okJson(as(bob, "GET", K + "/recurringruns?namespace=" + NS, null)), "recurringRuns", "recurring_run_id")).contains(rrId);
        assertThat(as(bob, "POST", K + "/recurringruns/" + rrId + ":disable", "").status()).isEqualTo(403);
        assertThat(as(carol, "GET", K + "/recurringruns/" + rrId, null).status()).isEqualTo(404);
        okJson(as(alice, "POST", K + "/recurringruns/" + rrId + ":disable", ""));
        okJson(as(alice, "DELETE", K + "/recurringruns/" + rrId, null));
        assertThat(as(alice, "GET", K + "/recurringruns/" + rrId, null).status()).isEqualTo(404);
    }

    static String recurring(String experimentId, String namespace) {
        return "{\"display_name\": \"nightly\", \"experiment_id\": \"" + experimentId + "\", \"mode\": \"DISABLE\","
                + (namespace.isEmpty() ? "" : " \"namespace\": \"" + namespace + "\",")
                + " \"trigger\": {\"periodic_schedule\": {\"interval_second\": \"3600\"}}, \"pipeline_spec\": " + PIPELINE + "}";
    }

    @Test
    void anExperimentStoredInDefaultBeforeTheIndexStillAnswersByIdAndInLists() {
        // As earlier versions stored it: a resource in default named by its id, with no index entry.
        var id = java.util.UUID.randomUUID().toString();
        ok(server.apply("""
                apiVersion: pipelines.capstan.io/v1
                kind: PipelineExperiment
                metadata: {name: %s, namespace: default}
                spec: {displayName: from-before, description: '', storageState: AVAILABLE}
                """.formatted(id)));
        assertThat(server.get("/apis/capstan/v1/namespaces/capstan-kfp-index/kfpindexes/" + id).status()).isEqualTo(404);
        assertThat(okJson(server.get(K + "/experiments/" + id)).path("display_name").asText()).isEqualTo("from-before");
        assertThat(ids(okJson(server.get(K + "/experiments?namespace=default")), "experiments", "experiment_id")).contains(id);
        okJson(server.send("POST", K + "/experiments/" + id + ":archive", "", "application/json"));
        assertThat(okJson(server.get(K + "/experiments/" + id)).path("storage_state").asText()).isEqualTo("ARCHIVED");
        // A user who may not view default finds it no more than an unknown id.
        assertThat(as(alice, "GET", K + "/experiments/" + id, null).status()).isEqualTo(404);
        okJson(server.send("DELETE", K + "/experiments/" + id, null, null));
        assertThat(server.get(K + "/experiments/" + id).status()).isEqualTo(404);
    }

    @Test
    void theIdIndexNamesEachObjectsNamespaceAndGoesWithIt() {
        var id = okJson(as(alice, "POST", K + "/experiments", "{\"display_name\": \"indexed\", \"namespace\": \"" + NS + "\"}"))
                .path("experiment_id").asText();
        var entry = okJson(server.get("/apis/capstan/v1/namespaces/capstan-kfp-index/kfpindexes/" + id));
        assertThat(entry.path("spec").path("namespace").asText()).isEqualTo(NS);
        assertThat(entry.path("spec").path("kind").asText()).isEqualTo("PipelineExperiment");
        // The index is the server admin's: no Profile grants it.
        assertThat(as(alice, "GET", "/apis/capstan/v1/namespaces/capstan-kfp-index/kfpindexes/" + id, null).status()).isEqualTo(403);
        okJson(as(alice, "DELETE", K + "/experiments/" + id, null));
        assertThat(server.get("/apis/capstan/v1/namespaces/capstan-kfp-index/kfpindexes/" + id).status()).isEqualTo(404);
    }

    @Test
    void namespacedPipelinesAreTheirNamespacesAndSharedOnesEveryones() {
        var shared = okJson(server.send("POST", K + "/pipelines", "{\"display_name\": \"shared-one\"}", "application/json"))
                .path("pipeline_id").asText();
        var own = okJson(as(alice, "POST", K + "/pipelines/create", "{\"pipeline\": {\"display_name\": \"team-pipe\", \"namespace\": \"" + NS
                + "\"}, \"pipeline_version\": {\"display_name\": \"v1\", \"pipeline_spec\": " + PIPELINE + "}}"));
        assertThat(own.path("namespace").asText()).isEqualTo(NS);
        var ownId = own.path("pipeline_id").asText();
        // Shared pipelines stay the server admin's to write.
        assertThat(as(alice, "POST", K + "/pipelines", "{\"display_name\": \"mine\"}").status()).isEqualTo(403);
        assertThat(as(bob, "POST", K + "/pipelines", "{\"display_name\": \"bobs\", \"namespace\": \"" + NS + "\"}").status()).isEqualTo(403);

        for (var token : List.of(alice, bob)) {
            assertThat(ids(okJson(as(token, "GET", K + "/pipelines?namespace=" + NS, null)), "pipelines", "pipeline_id")).containsExactly(ownId);
            okJson(as(token, "GET", K + "/pipelines/" + ownId, null));
            assertThat(okJson(as(token, "GET", K + "/pipelines/" + ownId + "/versions", null)).path("pipeline_versions")).hasSize(1);
        }
        for (var token : List.of(alice, bob, carol)) {
            var sharedList = ids(okJson(as(token, "GET", K + "/pipelines", null)), "pipelines", "pipeline_id");
            assertThat(sharedList).contains(shared).doesNotContain(ownId);
            okJson(as(token, "GET", K + "/pipelines/" + shared, null));
        }
        assertThat(as(carol, "GET", K + "/pipelines/" + ownId, null).status()).isEqualTo(404);
        assertThat(as(carol, "GET", K + "/pipelines?namespace=" + NS, null).status()).isEqualTo(403);
        assertThat(as(bob, "DELETE", K + "/pipelines/" + ownId + "?cascade=true", null).status()).isEqualTo(403);

        // A run in team-c may not use team-a's pipeline: it reads as not found.
        var carolRun = as(carol, "POST", K + "/runs?namespace=team-c", "{\"pipeline_version_reference\": {\"pipeline_id\": \"" + ownId + "\"}}");
        assertThat(carolRun.status()).isEqualTo(404);
        var aliceRun = as(alice, "POST", K + "/runs?namespace=" + NS, "{\"pipeline_version_reference\": {\"pipeline_id\": \"" + ownId + "\"}}");
        assertThat(aliceRun.status()).as(aliceRun.body()).isEqualTo(200);

        okJson(as(alice, "DELETE", K + "/pipelines/" + ownId + "?cascade=true", null));
        assertThat(as(alice, "GET", K + "/pipelines/" + ownId, null).status()).isEqualTo(404);
    }
}
