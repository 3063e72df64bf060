package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.server.CapstanServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan pipelines|experiments|runs} against a real server's KFP v2beta1 API. */
class KfpCommandsTest {
    @TempDir
    static Path home;
    static CapstanServer server;

    static final String SLEEPER = """
            pipelineInfo: {name: sleeper}
            schemaVersion: 2.1.0
            components:
              comp-step: {executorLabel: exec-step}
            deploymentSpec:
              executors:
                exec-step: {container: {image: alpine, command: [sh, -c, 'sleep 30']}}
            root:
              dag:
                tasks:
                  step: {componentRef: {name: comp-step}, taskInfo: {name: step}}
            """;

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

    @Test
    void theLauncherPrintsListTablesBeforeItExits() throws Exception {
        // Through Capstan.main in its own JVM, as the launcher runs it: the harness's writers never lose output.
        var javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (var verb : java.util.List.of("runs", "pipelines", "experiments", "notebooks")) {
            var process = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), "io.capstan.cli.Capstan", verb, "list",
                    "--server", server.url().toString(), "--token", io.capstan.security.AdminToken.read(server.config().home()).orElseThrow())
                    .redirectErrorStream(true).start();
            var out = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(process.waitFor()).as(out).isZero();
            assertThat(out).as(verb).contains("NAME");
        }
    }

    @Test
    void uploadsAPipelineAndListsIt() throws Exception {
        var file = home.resolve("sleeper.yaml");
        Files.writeString(file, SLEEPER);
        var upload = cli().run("pipelines", "upload", file.toString(), "--name", "cli-sleeper");
        assertThat(upload.exitCode()).as(upload.err()).isZero();
        assertThat(upload.out()).contains("pipeline cli-sleeper uploaded");
        assertThat(cli().run("pipelines", "list").out()).contains("cli-sleeper");

        Files.writeString(file, "pipelineInfo: {name: broken}\nschemaVersion: 2.1.0\nroot: {dag: {tasks: {a: {componentRef: {name: nope}}}}}\n");
        var bad = cli().run("pipelines", "upload", file.toString(), "--name", "broken");
        assertThat(bad.exitCode()).isEqualTo(5);
        assertThat(bad.err()).contains("nope");
    }

    @Test
    void createsListsArchivesAndUnarchivesExperiments() {
        var created = cli().run("experiments", "create", "cli-experiment");
        assertThat(created.exitCode()).as(created.err()).isZero();
        var id = created.out().substring(created.out().lastIndexOf(' ') + 1).strip();
        assertThat(cli().run("experiments", "list").out()).contains("cli-experiment").contains("AVAILABLE");
        assertThat(cli().run("experiments", "archive", id).exitCode()).isZero();
        assertThat(cli().run("experiments", "list").out()).contains("ARCHIVED");
        assertThat(cli().run("experiments", "unarchive", id).exitCode()).isZero();
        assertThat(cli().run("experiments", "archive", "no-such-id").exitCode()).isEqualTo(3);
    }

    @Test
    void listsGetsTerminatesAndRetriesARun() throws Exception {
        var body = Json.json().createObjectNode();
        body.put("display_name", "cli-run");
        body.set("pipeline_spec", Json.yaml().readTree(SLEEPER));
        var http = HttpClient.newHttpClient();
        var res = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/v2beta1/runs"))
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(server.config().home()).orElseThrow())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        var id = Json.json().readTree(res.body()).path("run_id").asText();

        assertThat(cli().run("runs", "list").out()).contains(id).contains("cli-run");
        var terminated = cli().run("runs", "terminate", id);
        assertThat(terminated.exitCode()).as(terminated.err()).isZero();
        var deadline = Instant.now().plus(Duration.ofSeconds(30));
        String shown = "";
        while (Instant.now().isBefore(deadline) && !shown.contains("CANCELED")) {
            shown = cli().run("runs", "get", id).out();
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        assertThat(shown).contains("State:    CANCELED").contains("root/step");
        var logs = cli().run("runs", "logs", id);
        assertThat(logs.exitCode()).as(logs.err()).isZero();
        assertThat(logs.out()).contains("==> root/step <==");
        var retried = cli().run("runs", "retry", id);
        assertThat(retried.exitCode()).as(retried.err()).isZero();
        assertThat(cli().run("runs", "get", id, "-o", "json").out()).contains("\"run_id\" : \"" + id + "\"");
        assertThat(cli().run("runs", "terminate", id).exitCode()).isZero();
        var missing = cli().run("runs", "get", "no-such-run");
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.err()).contains("no-such-run");
    }

    @Test
    void aUserListsTheRunsOfHerNamespace() throws Exception {
        var profile = home.resolve("team-a.yaml");
        Files.writeString(profile, """
                apiVersion: kubeflow.org/v1
                kind: Profile
                metadata: {name: team-a}
                spec: {owner: {kind: User, name: alice@example.com}}
                """);
        var applied = cli().run("apply", "-f", profile.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        var alice = server.tokens().createUserToken("alice@example.com", java.util.Optional.empty(), "").token();
        var created = cli().env("CAPSTAN_TOKEN", alice).run("experiments", "create", "alice-exp", "-n", "team-a");
        assertThat(created.exitCode()).as(created.err()).isZero();
        var experimentId = created.out().substring(created.out().lastIndexOf(' ') + 1).strip();

        var body = Json.json().createObjectNode();
        body.put("display_name", "alice-run");
        body.put("experiment_id", experimentId);
        body.set("pipeline_spec", Json.yaml().readTree(SLEEPER.replace("sleep 30", "true")));
        var res = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/v2beta1/runs"))
                        .header("Authorization", "Bearer " + alice)
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
        var id = Json.json().readTree(res.body()).path("run_id").asText();

        var mine = cli().env("CAPSTAN_TOKEN", alice).run("runs", "list", "-n", "team-a");
        assertThat(mine.exitCode()).as(mine.err()).isZero();
        assertThat(mine.out()).contains(id).contains("alice-run");
        assertThat(cli().env("CAPSTAN_TOKEN", alice).run("experiments", "list", "-n", "team-a").out()).contains(experimentId);
        assertThat(cli().env("CAPSTAN_TOKEN", alice).run("runs", "get", id).exitCode()).isZero();
        // Without -n, every namespace she may view; default is the server admin's.
        assertThat(cli().env("CAPSTAN_TOKEN", alice).run("runs", "list").out()).contains(id).doesNotContain("cli-run");
        var refused = cli().env("CAPSTAN_TOKEN", alice).run("runs", "list", "-n", "default");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("default");
        assertThat(cli().run("runs", "list", "-n", "team-a").out()).contains(id);
    }

    @Test
    void marksACacheHitInTheCacheColumn() throws Exception {
        var body = Json.json().createObjectNode();
        body.put("display_name", "cli-cached");
        body.set("pipeline_spec", Json.yaml().readTree(SLEEPER.replace("name: sleeper", "name: quick").replace("sleep 30", "true")
                .replace("taskInfo: {name: step}", "taskInfo: {name: step}, cachingOptions: {enableCache: true}")));
        var http = HttpClient.newHttpClient();
        String shown = "";
        for (int attempt = 0; attempt < 2; attempt++) {
            var res = http.send(HttpRequest.newBuilder(URI.create(server.url() + "/apis/v2beta1/runs"))
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(server.config().home()).orElseThrow())
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            var id = Json.json().readTree(res.body()).path("run_id").asText();
            var deadline = Instant.now().plus(Duration.ofSeconds(30));
            shown = "";
            while (Instant.now().isBefore(deadline) && !shown.contains("State:    SUCCEEDED")) {
                shown = cli().run("runs", "get", id).out();
                LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
            }
            assertThat(shown).contains("State:    SUCCEEDED");
            if (attempt == 0) assertThat(shown).doesNotContain("CACHED");
        }
        assertThat(shown).as("the second run's step is a cache hit").containsPattern("root/step\\s+SKIPPED\\s+CACHED");
    }
}
