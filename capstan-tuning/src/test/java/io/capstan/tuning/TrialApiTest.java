package io.capstan.tuning;

import static io.capstan.tuning.ExperimentYaml.anExperiment;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.ResourceKey;
import io.capstan.core.TransientException;
import io.capstan.store.testing.TestDatabases;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Push collector over real HTTP: a trial posts its observations, and bad requests get problem answers naming the field. */
class TrialApiTest {
    @TempDir
    Path dir;
    TuningHarness h;
    WebServer web;
    String base;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeEach
    void setUp() {
        var db = TestDatabases.h2();
        // The store and backend exist before the server, and the server's port before the reconciler that hands it to trials.
        var store = TuningHarness.storeOf(db);
        var backend = TuningHarness.backendIn(dir);
        web = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false)
                .routing(r -> {
                    problemHandlers(r);
                    // As the server's authentication filter does for the admin's token.
                    r.addFilter((chain, req, res) -> {
                        req.context().register(io.capstan.core.security.Caller.serverAdmin());
                        chain.proceed();
                    });
                    r.register("/apis/capstan/v1", new TrialApi(store, backend, Clock.systemUTC(),
                            io.capstan.core.security.AccessPolicy.serverAdminOnly()));
                })
                .build().start();
        base = "http://127.0.0.1:" + web.port() + "/apis/capstan/v1";
        h = new TuningHarness(db, store, backend, dir, new FixedCatalog("x", List.of("0.25", "0.75")), base);
    }

    @AfterEach
    void tearDown() {
        web.stop();
        h.close();
    }

    /** As capstan-server's ProblemHandlers answer, for the branches this API throws. */
    private static void problemHandlers(HttpRouting.Builder r) {
        r.error(InvalidSpecException.class, (req, res, e) -> {
            var body = Json.json().createObjectNode().put("title", "Invalid input").put("status", 400).put("detail", e.getMessage());
            var errors = body.putArray("errors");
            e.errors().forEach(err -> errors.addObject().put("field", err.path()).put("message", err.message()));
            send(res, Status.BAD_REQUEST_400, body);
        });
        r.error(NotFoundException.class, (req, res, e) -> send(res, Status.NOT_FOUND_404, Json.json().createObjectNode().put("detail", e.getMessage())));
        r.error(ConflictException.class, (req, res, e) -> send(res, Status.CONFLICT_409, Json.json().createObjectNode().put("detail", e.getMessage())));
        r.error(TransientException.class, (req, res, e) -> send(res, Status.SERVICE_UNAVAILABLE_503, Json.json().createObjectNode().put("detail", e.getMessage())));
    }

    private static void send(ServerResponse res, Status status, JsonNode body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/problem+json");
        res.send(body.toString());
    }

    private HttpResponse<String> post(String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private ResourceKey pushExperiment(String command) {
        return h.apply(anExperiment("push").withCollector("collector: {kind: Push}")
                .withObjective("type: minimize\n    objectiveMetricName: loss\n    additionalMetricNames: [accuracy]")
                .withCommand(command).withBudget(1, 2, 0).build());
    }

    @Test
    void trialsPushTheirObservationsThroughTheUrlInTheirEnvironment() {
        var key = pushExperiment("curl -sf -X POST -H 'Content-Type: application/json'"
                + " -d '{\"metrics\":[{\"name\":\"loss\",\"value\":${trialParameters.x},\"step\":1},{\"name\":\"accuracy\",\"value\":\"0.5\"}]}' \"$CAPSTAN_OBSERVATION_URL\"");
        var done = h.reconcileUntilDone(key);

        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(done.status().field("currentOptimalTrial").orElseThrow().path("bestTrialName").asText()).isEqualTo("push-1");
        var observations = h.trial(key, 1).status().field("observations").orElseThrow();
        assertThat(observations).hasSize(2);
        assertThat(observations.get(0).path("value").asDouble()).isEqualTo(0.25);
        assertThat(observations.get(1).path("metric").asText()).isEqualTo("accuracy");
    }

    @Test
    void refusesBadObservationsNamingTheField() throws Exception {
        var key = pushExperiment("sleep 60");
        h.reconcileUntil(key, Duration.ofSeconds(60), r -> r.status().field("trialsRunning").map(n -> n.asInt() == 1).orElse(false));
        var url = TrialApi.url(base, "default", "push-1");

        var bad = post(url, "{\"metrics\":[{\"name\":\"loss\",\"value\":\"abc\"},{\"name\":\"f1\",\"value\":1},{\"name\":\"loss\",\"value\":1,\"step\":-2},"
                + "{\"name\":\"loss\",\"value\":1,\"timestamp\":\"yesterday\"},{\"value\":1}]}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        var fields = Json.json().readTree(bad.body()).path("errors").findValuesAsText("field");
        assertThat(fields).contains("metrics[0].value", "metrics[1].name", "metrics[2].step", "metrics[3].timestamp", "metrics[4].name");

        assertThat(post(url, "not json").statusCode()).isEqualTo(400);
        assertThat(post(url, "[1,2]").statusCode()).isEqualTo(400);
        assertThat(post(url, "{\"metrics\":[]}").statusCode()).isEqualTo(400);
        assertThat(post(url, "{\"metrics\":[" + "{\"name\":\"loss\",\"value\":1},".repeat(1000) + "{\"name\":\"loss\",\"value\":1}]}").statusCode()).isEqualTo(400);
        var huge = post(url, "{\"metrics\":[{\"name\":\"loss\",\"value\":1,\"pad\":\"" + "x".repeat(TrialApi.MAX_BODY_BYTES) + "\"}]}");
        assertThat(huge.statusCode()).isEqualTo(400);
        assertThat(huge.body()).contains("the limit is " + TrialApi.MAX_BODY_BYTES);
        assertThat(post(TrialApi.url(base, "default", "NOT_A_NAME"), "{}").statusCode()).isEqualTo(400);
        assertThat(post(TrialApi.url(base, "default", "nobody"), "{\"metrics\":[{\"name\":\"loss\",\"value\":1}]}").statusCode()).isEqualTo(404);

        var good = post(url, "{\"metrics\":[{\"name\":\"loss\",\"value\":0.5},{\"name\":\"loss\",\"value\":0.4}]}");
        assertThat(good.statusCode()).isEqualTo(200);
        assertThat(good.body()).isEqualTo("{\"accepted\":2}");
        var stored = h.trial(key, 1).status().field("observations").orElseThrow();
        assertThat(stored.findValuesAsText("step")).containsExactly("1", "2");
        assertThat(h.trial(key, 1).status().field("observation").orElseThrow().path("metrics").get(0).path("min").asText()).isEqualTo("0.4");
    }

    @Test
    void servesATrialsLogAndRefusesBadTailLines() throws Exception {
        var key = pushExperiment("echo first line; echo second line >&2");
        h.reconcileUntilDone(key);
        var url = base + "/namespaces/default/trials/push-1/log";
        var log = http.send(HttpRequest.newBuilder(URI.create(url + "?tailLines=1")).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(log.statusCode()).isEqualTo(200);
        assertThat(log.body()).isEqualTo("second line\n");
        var all = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(all.body()).isEqualTo("first line\nsecond line\n");
        var bad = http.send(HttpRequest.newBuilder(URI.create(url + "?tailLines=-1")).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("tailLines");
        var missing = http.send(HttpRequest.newBuilder(URI.create(base + "/namespaces/default/trials/nope/log")).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
    }

    @Test
    void refusesPushesToFinishedTrialsAndToExperimentsThatDoNotPush() throws Exception {
        var key = pushExperiment("curl -sf -X POST -d '{\"metrics\":[{\"name\":\"loss\",\"value\":1}]}' \"$CAPSTAN_OBSERVATION_URL\"");
        h.reconcileUntilDone(key);
        var late = post(TrialApi.url(base, "default", "push-1"), "{\"metrics\":[{\"name\":\"loss\",\"value\":0.1}]}");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(late.body()).contains("has finished");

        var stdout = h.apply(anExperiment("stdout").withCommand("sleep 60").withBudget(1, 1, 0).build());
        h.reconcileUntil(stdout, Duration.ofSeconds(60), r -> r.status().field("trialsRunning").map(n -> n.asInt() == 1).orElse(false));
        var wrong = post(TrialApi.url(base, "default", "stdout-1"), "{\"metrics\":[{\"name\":\"loss\",\"value\":0.1}]}");
        assertThat(wrong.statusCode()).isEqualTo(409);
        assertThat(wrong.body()).contains("collects metrics with StdOut");
    }
}
