package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResourceApiTest {
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

    static String job(String name, String command) {
        return """
                apiVersion: capstan.io/v1
                kind: Job
                metadata:
                  name: %s
                  labels: {suite: api}
                spec:
                  command: %s
                """.formatted(name, command);
    }

    @Test
    void healthReadinessMetricsAndVersionAnswer() {
        assertThat(server.get("/healthz").status()).isEqualTo(200);
        assertThat(server.get("/readyz").status()).isEqualTo(200);
        server.get("/apis/capstan/v1/namespaces/default/jobs");
        var metrics = server.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("jvm_memory_used_bytes").contains("capstan_http_requests_seconds_count")
                .contains("capstan_backend_workloads").contains("capstan_store_operation");
        assertThat(server.get("/version").json().path("version").asText()).isNotEmpty();
    }

    @Test
    void appliedJobRunsToCompletionAndItsLogsCanBeRead() {
        var applied = server.apply(job("hello", "[sh, -c, 'echo one; echo two >&2; exit 0']"));
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);
        assertThat(applied.json().path("results").get(0).path("action").asText()).isEqualTo("created");
        var done = server.await("/apis/capstan/v1/namespaces/default/jobs/hello",
                j -> j.path("status").path("phase").asText().equals("Succeeded"), Duration.ofSeconds(30));
        assertThat(done.path("status").path("exitCode").asInt()).isZero();
        assertThat(done.path("metadata").path("uid").asText()).isNotEmpty();
        var logs = server.get("/apis/capstan/v1/namespaces/default/jobs/hello/log");
        assertThat(logs.body()).contains("one").contains("two");
        assertThat(server.apply(job("hello", "[sh, -c, 'echo one; echo two >&2; exit 0']")).json()
                .path("results").get(0).path("action").asText()).isEqualTo("unchanged");
    }

    @Test
    void failingJobIsRetriedAsBackoffLimitSaysThenFails() {
        var yaml = """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: flaky}
                spec:
                  command: [sh, -c, 'echo attempt >> "$CAPSTAN_HOME_FILE"; exit 3']
                  env: {CAPSTAN_HOME_FILE: %s}
                  backoffLimit: 2
                """.formatted(home.resolve("flaky-attempts.txt"));
        assertThat(server.apply(yaml).status()).isEqualTo(200);
        var failed = server.await("/apis/capstan/v1/namespaces/default/jobs/flaky",
                j -> j.path("status").path("phase").asText().equals("Failed"), Duration.ofSeconds(30));
        assertThat(failed.path("status").path("attempts").asInt()).isEqualTo(3);
        assertThat(failed.path("status").path("exitCode").asInt()).isEqualTo(3);
        assertThat(failed.path("status").path("message").asText()).contains("code 3");
    }

    @Test
    void listSupportsLabelSelectorsAndPagination() {
        for (int i = 0; i < 5; i++) {
            server.apply(job("page-" + i, "[\"true\"]").replace("suite: api", "suite: paging"));
        }
        var first = server.get("/apis/capstan/v1/namespaces/default/jobs?labelSelector=suite%3Dpaging&limit=2").json();
        assertThat(first.path("items")).hasSize(2);
        var token = first.path("metadata").path("continue").asText();
        assertThat(token).isNotEmpty();
        var second = server.get("/apis/capstan/v1/namespaces/default/jobs?labelSelector=suite%3Dpaging&limit=10&continue=" + token).json();
        assertThat(second.path("items")).hasSize(3);
        assertThat(server.get("/apis/capstan/v1/jobs?labelSelector=suite%3Dpaging").json().path("items")).hasSize(5);
    }

    @Test
    void staleUpdateIsAConflictAndChangesNothing() {
        server.apply(job("versioned", "[\"true\"]"));
        // Status writes move resourceVersion too; once the job has finished, its status stays put.
        var finished = server.await("/apis/capstan/v1/namespaces/default/jobs/versioned",
                j -> j.path("status").path("phase").asText().equals("Succeeded"), Duration.ofSeconds(30));
        var version = finished.path("metadata").path("resourceVersion").asText();
        var body = """
                {"apiVersion":"capstan.io/v1","kind":"Job","metadata":{"name":"versioned","resourceVersion":"%s"},
                 "spec":{"command":["echo","changed"]}}""";
        var ok = server.send("PUT", "/apis/capstan/v1/namespaces/default/jobs/versioned", body.formatted(version), "application/json");
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        var stale = server.send("PUT", "/apis/capstan/v1/namespaces/default/jobs/versioned",
                body.formatted(version).replace("changed", "again"), "application/json");
        assertThat(stale.status()).isEqualTo(409);
        assertThat(stale.contentType()).isEqualTo("application/problem+json");
        var stored = server.get("/apis/capstan/v1/namespaces/default/jobs/versioned").json();
        assertThat(stored.path("spec").path("command").get(1).asText()).isEqualTo("changed");
        assertThat(stored.path("metadata").path("generation").asInt()).isEqualTo(2);
    }

    @Test
    void deleteRemovesAndASecondDeleteIsNotFound() {
        server.apply(job("doomed", "[sleep, '30']"));
        assertThat(server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/doomed", null, null).status()).isEqualTo(200);
        var again = server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/doomed", null, null);
        assertThat(again.status()).isEqualTo(404);
        assertThat(again.json().path("detail").asText()).contains("doomed");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            malformed yaml        | 'apiVersion: capstan.io/v1\\nkind: [Job\\n'                                                          | malformed YAML
            wrong type            | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: a}\\nspec: {command: echo}\\n'             | spec.command
            missing command       | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: a}\\nspec: {}\\n'                          | spec.command
            missing name          | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {}\\nspec: {command: [x]}\\n'                     | metadata.name
            unknown kind          | 'apiVersion: v1\\nkind: Lizard\\nmetadata: {name: a}\\n'                                             | unknown kind
            kubernetes kind       | 'apiVersion: apps/v1\\nkind: Deployment\\nmetadata: {name: a}\\n'                                      | kind Deployment is not applied locally: Capstan runs containers as a Job
            batch job, no image   | 'apiVersion: batch/v1\\nkind: Job\\nmetadata: {name: a}\\nspec: {template: {spec: {containers: [{name: m, command: [x]}]}}}\\n' | spec.template.spec.containers[0].image
            bad dns name          | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: UPPER_case}\\nspec: {command: [x]}\\n'     | DNS-1123
            hostile name          | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: "../../etc/passwd"}\\nspec: {command: [x]}\\n' | DNS-1123
            control characters    | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: "a\\u0007b"}\\nspec: {command: [x]}\\n'    | special characters are not allowed
            bad env name          | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: a}\\nspec: {command: [x], env: {"A=B": c}}\\n' | spec.env
            negative timeout      | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: a}\\nspec: {command: [x], timeoutSeconds: -1}\\n' | spec.timeoutSeconds
            bad quantity          | 'apiVersion: capstan.io/v1\\nkind: Job\\nmetadata: {name: a}\\nspec: {command: [x], resources: {cpu: lots}}\\n' | spec.resources.cpu
            empty body            | ''                                                                                                   | no resource found
            """)
    void badInputGetsA400NamingTheProblemAndStoresNothing(String label, String body, String expected) {
        var before = server.get("/apis/capstan/v1/jobs").json().path("items").size();
        var reply = server.apply(body.replace("\\n", "\n").replace("\\u0007", "\u0007"));
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.contentType()).isEqualTo("application/problem+json");
        assertThat(reply.json().path("detail").asText()).contains(expected);
        assertThat(reply.json().path("status").asInt()).isEqualTo(400);
        assertThat(server.get("/apis/capstan/v1/jobs").json().path("items").size()).isEqualTo(before);
    }

    @Test
    void controlCharactersInANameAreEscapedInTheAnswer() {
        var reply = server.send("POST", "/apis/capstan/v1/apply",
                "{\"apiVersion\":\"capstan.io/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"a\\u0007b\\u202e\"},\"spec\":{\"command\":[\"x\"]}}",
                "application/json");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(reply.json().path("detail").asText()).contains("metadata.name").contains("a\\u0007b\\u202e").doesNotContain("\u0007");
    }

    @Test
    void oneBadDocumentRejectsTheWholeApply() {
        var reply = server.apply(job("good-one", "[\"true\"]") + "---\n" + job("Bad_One", "[\"true\"]"));
        assertThat(reply.status()).isEqualTo(400);
        // Lines count from the start of the whole input: the second document's name is on line 12.
        assertThat(reply.json().path("errors").get(0).path("line").asInt()).isEqualTo(12);
        assertThat(reply.json().path("errors").get(0).path("document").asInt()).isEqualTo(1);
        assertThat(server.get("/apis/capstan/v1/namespaces/default/jobs/good-one").status()).isEqualTo(404);
    }

    @Test
    void oversizedBodyIsRefusedWith413() {
        var big = job("big", "[\"true\"]") + "  padding: \"" + "x".repeat(5 * 1024 * 1024) + "\"\n";
        var reply = server.apply(big);
        assertThat(reply.status()).isIn(413);
        assertThat(server.get("/apis/capstan/v1/namespaces/default/jobs/big").status()).isEqualTo(404);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/apis/capstan/v1/namespaces/default/pods",
            "/apis/capstan/v1/namespaces/default/jobs/does-not-exist",
    })
    void unknownThingsAre404(String path) {
        var reply = server.get(path);
        assertThat(reply.status()).isEqualTo(404);
        assertThat(reply.contentType()).isEqualTo("application/problem+json");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/apis/capstan/v1/namespaces/Bad_NS/jobs",
            "/apis/capstan/v1/namespaces/default/jobs?limit=0",
            "/apis/capstan/v1/namespaces/default/jobs?limit=abc",
            "/apis/capstan/v1/namespaces/default/jobs?labelSelector=%21%21%21",
            "/apis/capstan/v1/namespaces/default/jobs?watch=true&resourceVersion=-5",
            "/apis/capstan/v1/namespaces/default/jobs/hello/log?tailLines=-1",
    })
    void badQueryParametersAre400(String path) {
        var reply = server.get(path);
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
    }

    @Test
    void unsupportedContentTypeIs415() {
        var reply = server.send("POST", "/apis/capstan/v1/apply", "x", "application/octet-stream");
        assertThat(reply.status()).isEqualTo(415);
    }

    @Test
    void watchStreamsEventsFromAResourceVersion() throws Exception {
        var start = server.get("/apis/capstan/v1/namespaces/default/jobs").json().path("metadata").path("resourceVersion").asText();
        server.apply(job("watched", "[\"true\"]"));
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.server.url()
                + "/apis/capstan/v1/namespaces/default/jobs?watch=true&resourceVersion=" + start))
                .header("Authorization", "Bearer " + server.adminToken()).build();
        var response = server.http.send(request, java.net.http.HttpResponse.BodyHandlers.ofLines());
        try (var lines = response.body()) {
            var added = lines.filter(l -> l.startsWith("data:")).filter(l -> l.contains("\"watched\"")).findFirst();
            assertThat(added).isPresent();
            assertThat(added.get()).contains("\"type\":\"ADDED\"");
        }
    }
}
