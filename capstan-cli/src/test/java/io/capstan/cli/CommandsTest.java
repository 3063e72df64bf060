package io.capstan.cli;

import io.capstan.cli.FakeServer.Answer;
import io.capstan.core.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CommandsTest {
    private static final String JOBS = "/apis/capstan/v1/namespaces/default/jobs";
    private static final String NL = System.lineSeparator();

    private FakeServer server;
    private Cli cli;

    @BeforeEach
    void startFake() throws IOException {
        server = new FakeServer();
        cli = Cli.against(server.url());
    }

    @AfterEach
    void stopFake() {
        server.close();
    }

    @Test
    void getPrintsAJobTableWithPhaseExitCodeAndAge() {
        server.answer("GET", JOBS, Answer.json(200, Jobs.list(Jobs.job("default", "hello", "Succeeded", 0),
                Jobs.job("default", "slow-one", "Running", null))));

        var run = cli.run("get", "jobs");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo(
                "NAME       PHASE       EXIT     AGE" + NL
                + "hello      Succeeded   0        5m" + NL
                + "slow-one   Running     <none>   5m" + NL);
        assertThat(run.err()).isEmpty();
        assertThat(server.last("GET").query()).contains("limit=500");
    }

    @Test
    void getAcrossNamespacesAddsANamespaceColumnAndPassesTheSelector() {
        server.answer("GET", "/apis/capstan/v1/jobs", Answer.json(200, Jobs.list(Jobs.job("team-a", "hello", "Failed", 3))));

        var run = cli.run("get", "JOB", "-A", "-l", "app=demo");

        assertThat(run.out().lines().toList()).containsExactly(
                "NAMESPACE   NAME    PHASE    EXIT   AGE",
                "team-a      hello   Failed   3      5m");
        assertThat(server.last("GET").query()).contains("labelSelector=app%3Ddemo");
    }

    @Test
    void getWideAddsAttemptsDurationAndCommand() {
        server.answer("GET", JOBS, Answer.json(200, Jobs.list(Jobs.job("default", "hello", "Succeeded", 0))));

        var run = cli.run("get", "jobs", "-o", "wide");

        assertThat(run.out().lines().toList()).containsExactly(
                "NAME    PHASE       EXIT   AGE   ATTEMPTS   DURATION   COMMAND",
                "hello   Succeeded   0      5m    1          3s         sh -c echo hi");
    }

    @Test
    void getFollowsContinueTokensUntilTheListIsComplete() throws IOException {
        server.answer("GET", JOBS, Answer.json(200, """
                {"kind":"List","items":[%s],"metadata":{"continue":"","resourceVersion":"12"}}"""
                .formatted(Jobs.job("default", "a", "Pending", null))));

        var run = cli.run("get", "jobs", "-o", "json");

        assertThat(run.exitCode()).isZero();
        assertThat(Json.json().readTree(run.out()).path("items")).hasSize(1);
    }

    @Test
    void getByNameAsJsonPrintsTheResourceExactly() throws IOException {
        var job = Jobs.job("default", "hello", "Succeeded", 0);
        server.answer("GET", JOBS + "/hello", Answer.json(200, job));

        var run = cli.run("get", "job/hello", "-o", "json");

        assertThat(run.exitCode()).isZero();
        assertThat(Json.json().readTree(run.out())).isEqualTo(Json.json().readTree(job));
    }

    @Test
    void getByNameAsYamlPrintsTheResourceExactly() throws IOException {
        var job = Jobs.job("default", "hello", "Succeeded", 0);
        server.answer("GET", JOBS + "/hello", Answer.json(200, job));

        var run = cli.run("get", "jobs", "hello", "-o", "YAML");

        assertThat(Json.yaml().readTree(run.out())).isEqualTo(Json.json().readTree(job));
    }

    @Test
    void emptyListSaysSoOnStderrAndSucceeds() {
        server.answer("GET", JOBS, Answer.json(200, Jobs.list()));

        var run = cli.run("get", "jobs");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).isEqualTo("No resources found in default namespace." + NL);
    }

    @Test
    void anUnknownTypeIsAUsageErrorThatListsTheKnownTypes() {
        var run = cli.run("get", "pipelines");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).isEqualTo("error: the server has no resource type 'pipelines'; known types: jobs" + NL);
    }

    @Test
    void aMissingResourceExitsWithNotFoundAndTheServersSentence() {
        server.answer("GET", JOBS + "/nope", Answer.problem(404, """
                {"type":"about:blank","title":"Not Found","status":404,"detail":"job default/nope does not exist"}"""));

        var run = cli.run("get", "job", "nope");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(run.err()).isEqualTo("error: job default/nope does not exist" + NL);
        assertThat(run.out()).isEmpty();
    }

    @Test
    void anUnreachableServerExitsSixWithOneSentenceAndNoStackTrace() throws IOException {
        int closedPort;
        try (var socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            closedPort = socket.getLocalPort();
        }
        var url = "http://127.0.0.1:" + closedPort;

        var run = Cli.against(url).run("get", "jobs");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(run.err()).isEqualTo("error: cannot reach the Capstan server at " + url
                + ": connection refused; start one with `capstan server` or pass --server" + NL);
        assertThat(run.out()).isEmpty();
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        int closedPort;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }

        var run = cli.run("get", "jobs", "--verbose", "--server", "http://127.0.0.1:" + closedPort);

        assertThat(run.exitCode()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(run.err()).startsWith("error: cannot reach").contains("\tat ", "ConnectException");
    }

    @Test
    void theServerOptionWinsOverTheEnvironment() {
        server.answer("GET", JOBS, Answer.json(200, Jobs.list()));

        var run = Cli.against("http://127.0.0.1:1").run("get", "jobs", "--server", server.url());

        assertThat(run.exitCode()).isZero();
    }

    @Test
    void aServerValueThatIsNotAnHttpUrlIsAUsageError() {
        var run = cli.run("get", "jobs", "--server", "ftp://example.org");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).startsWith("error: --server 'ftp://example.org' is not an http:// or https:// URL");
    }

    @Test
    void applyPostsTheFileAndPrintsKubectlStyleLines(@TempDir Path dir) throws IOException {
        var file = Files.writeString(dir.resolve("job.yaml"), "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: hello}\n");
        server.answer("POST", "/apis/capstan/v1/apply", Answer.json(200, """
                {"items":[%s],"results":[{"kind":"Job","namespace":"team-a","name":"hello","action":"created"}]}"""
                .formatted(Jobs.job("team-a", "hello", "Pending", null))));

        var run = cli.run("apply", "-f", file.toString(), "-n", "team-a");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo("job.capstan.io/hello created" + NL);
        var request = server.last("POST");
        assertThat(request.contentType()).isEqualTo("application/yaml");
        assertThat(request.query()).startsWith("namespace=team-a&source=").endsWith("job.yaml");
        assertThat(request.body()).contains("name: hello");
    }

    @Test
    void applyReadsJsonFromStandardInput() throws IOException {
        server.answer("POST", "/apis/capstan/v1/apply", Answer.json(200, """
                {"items":[%s],"results":[{"kind":"Job","namespace":"default","name":"hello","action":"unchanged"}]}"""
                .formatted(Jobs.job("default", "hello", "Pending", null))));

        var run = cli.stdin("  {\"apiVersion\":\"capstan.io/v1\",\"kind\":\"Job\"}").run("apply", "-f", "-", "-o", "json");

        assertThat(run.exitCode()).isZero();
        assertThat(Json.json().readTree(run.out()).path("metadata").path("name").asText()).isEqualTo("hello");
        assertThat(server.last("POST").contentType()).isEqualTo("application/json");
    }

    @Test
    void anInvalidDocumentPrintsTheDetailAndEachFieldErrorWithTheFileName(@TempDir Path dir) throws IOException {
        var file = Files.writeString(dir.resolve("bad.yaml"), "kind: Job\n");
        server.answer("POST", "/apis/capstan/v1/apply", Answer.problem(400, """
                {"type":"https://capstan.io/problems/invalid","title":"Invalid input","status":400,
                 "detail":"the document has 1 invalid field",
                 "errors":[{"source":"","document":0,"field":"spec.command","line":1,"message":"is required"}]}"""));

        var run = cli.run("apply", "-f", file.toString());

        assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.err().lines().toList()).containsExactly(
                "error: the document has 1 invalid field",
                "  " + file + ":1: spec.command: is required");
    }

    @Test
    void aMissingFileIsInvalidInputAndNothingIsSent(@TempDir Path dir) {
        var run = cli.run("apply", "-f", dir.resolve("nope.yaml").toString());

        assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.err()).isEqualTo("error: cannot read '" + dir.resolve("nope.yaml") + "': no such file" + NL);
        assertThat(server.requests).isEmpty();
    }

    @Test
    void applyWithoutAFileIsAUsageErrorThatPointsAtHelp() {
        var run = cli.run("apply");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("error: Missing required option: '--filename=FILE'", "See 'capstan apply --help'.");
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        var run = cli.run("get", "jobs", "--colour");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).startsWith("error: Unknown option: '--colour'");
    }

    @Test
    void aConflictExitsFour() {
        server.answer("DELETE", JOBS + "/hello", Answer.problem(409, "{\"status\":409,\"detail\":\"job default/hello changed; retry\"}"));

        var run = cli.run("delete", "job", "hello");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.CONFLICT);
        assertThat(run.err()).isEqualTo("error: job default/hello changed; retry" + NL);
    }

    @Test
    void deletePrintsWhatWasDeleted() {
        server.answer("DELETE", JOBS + "/hello", Answer.json(200, Jobs.job("default", "hello", "Succeeded", 0)));

        var run = cli.run("delete", "jobs", "hello");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo("job.capstan.io \"hello\" deleted" + NL);
    }

    @Test
    void describeShowsMetadataSpecStatusAndConditions() {
        server.answer("GET", JOBS + "/hello", Answer.json(200, Jobs.job("default", "hello", "Succeeded", 0)));

        var run = cli.run("describe", "job", "hello");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains(
                "%-24s%s".formatted("Name:", "hello") + NL,
                "%-24s%s".formatted("Labels:", "app=demo") + NL,
                "%-24s%s".formatted("Created:", "2025-01-01T00:05:00Z (5m ago)") + NL,
                "Spec:" + NL + "  command:" + NL + "  - sh" + NL,
                "%-24s%s".formatted("  Phase:", "Succeeded") + NL,
                "%-24s%s".formatted("  Observed Generation:", "1") + NL,
                "Conditions:" + NL + "  TYPE       STATUS   REASON       LAST TRANSITION   MESSAGE" + NL
                        + "  Complete   True     ExitedZero   4m56s ago         process exited" + NL);
    }

    @Test
    void logsStreamsTheJobOutputWithTheTailAndFollowQuery() {
        server.answer("GET", JOBS + "/hello/log", Answer.streamed("text/plain", 20, "line 1\n", "line 2\n"));

        var run = cli.run("logs", "-f", "--tail", "2", "job/hello");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo("line 1\nline 2\n");
        assertThat(server.last("GET").query()).isEqualTo("tailLines=2&follow=true");
    }

    @Test
    void aStreamOutlivesTheRequestTimeoutOnceItHasStarted() throws IOException {
        server.answer("GET", JOBS + "/hello/log", Answer.streamed("text/plain", 400, "a\n", "b\n"));
        var client = CapstanClient.of(server.url(), java.time.Duration.ofSeconds(2), java.time.Duration.ofMillis(300));

        try (var in = client.openLog(LogsCommand.JOB, "default", "hello", java.util.OptionalInt.empty(), CapstanClient.LogMode.FOLLOW)) {
            assertThat(new String(in.readAllBytes())).isEqualTo("a\nb\n");
        }
    }

    @Test
    void watchPrintsTheTableThenARowPerEvent() {
        server.answer("GET", JOBS + "/hello", Answer.json(200, Jobs.job("default", "hello", "Pending", null)));
        var running = "{\"type\":\"MODIFIED\",\"object\":" + Jobs.job("default", "hello", "Running", null).replace("\n", "") + "}";
        var done = "{\"type\":\"MODIFIED\",\"object\":" + Jobs.job("default", "hello", "Succeeded", 0).replace("\n", "") + "}";
        var other = "{\"type\":\"ADDED\",\"object\":" + Jobs.job("default", "other", "Pending", null).replace("\n", "") + "}";
        server.answer("GET", JOBS + "?watch", Answer.streamed("text/event-stream", 10,
                ": heartbeat\n\n", "data: " + running + "\n\n", "event: change\ndata: " + done + "\n\n", "data: " + other + "\n\n"));

        var run = cli.run("get", "jobs", "hello", "-w");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out().lines().toList()).containsExactly(
                "NAME    PHASE     EXIT     AGE",
                "hello   Pending   <none>   5m",
                "hello   Running   <none>   5m",
                "hello   Succeeded   0        5m");
        assertThat(server.last("GET").query()).isEqualTo("watch=true&resourceVersion=7");
    }

    @Test
    void versionPrintsClientAndServerVersions() {
        server.answer("GET", "/version", Answer.json(200, "{\"version\":\"9.9.9\"}"));

        var run = cli.run("version");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo("Client Version: " + Version.client() + NL
                + "Server Version: 9.9.9 (" + server.url() + ")" + NL);
    }

    @Test
    void versionStillSucceedsWithoutAServer() throws IOException {
        int closedPort;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }

        var run = Cli.against("http://127.0.0.1:" + closedPort).run("version", "-o", "json");

        assertThat(run.exitCode()).isZero();
        assertThat(Json.json().readTree(run.out()).path("clientVersion").asText()).isEqualTo(Version.client());
        assertThat(run.err()).startsWith("note: cannot reach the Capstan server");
    }

    @Test
    void helpListsTheExitCodes() {
        var run = cli.run("--help");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("Exit codes:", "6   server unreachable or not ready", "quickstart", "CAPSTAN_SERVER");
    }

    @Test
    void noCommandPrintsUsageAndExitsTwo() {
        var run = cli.run();

        assertThat(run.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err()).contains("Usage: capstan");
    }

    @Test
    void everyOptionHasADescription() {
        var root = Capstan.commandLine(new Capstan(java.util.Map.of(), java.time.Clock.systemUTC(), System.in, () -> false));
        var missing = new java.util.ArrayList<String>();
        root.getSubcommands().forEach((name, sub) -> sub.getCommandSpec().options().forEach(o -> {
            if (o.description().length == 0 || o.description()[0].isBlank()) missing.add(name + " " + o.longestName());
        }));

        assertThat(missing).isEmpty();
    }
}
