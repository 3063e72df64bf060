package io.capstan.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Canary analysis under the {@code serving.capstan.io/rollout} annotation, with real HTTP traffic to the serving
 * endpoint and the reconciler run again whenever its result asks (as the controller runtime does): a canary that
 * always predicts one class, and one 20 ms slower, are rolled back by the check that sees it; a good one is promoted.
 */
class CanaryRolloutTest {
    /** Iris rows of the three species, which the good model classifies as 0, 1 and 2. */
    static final float[][] ROWS = {{5.1f, 3.5f, 1.4f, 0.2f}, {6.0f, 2.9f, 4.5f, 1.5f}, {6.9f, 3.1f, 5.4f, 2.1f}};
    static final int CLIENTS = 8;

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));
    final AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool;
    /** Answers by model_version, and when revision 2 first answered (System.nanoTime). */
    final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
    final AtomicLong firstCanaryAnswer = new AtomicLong();
    final AtomicInteger failures = new AtomicInteger();
    /** The rows the clients send, in turn. */
    volatile float[][] rows = ROWS;

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
        http = new TestHttp(serving.httpService());
        for (var model : List.of("good", "good-again", "constant", "slow")) {
            Files.createDirectories(dir.resolve("models/" + model));
            Files.writeString(dir.resolve("models/" + model + "/mode.txt"), model.replace("-again", ""));
        }
    }

    @AfterEach
    void tearDown() {
        stop.set(true);
        if (pool != null) pool.close();
        http.close();
        serving.close();
        db.close();
    }

    /** @param model a folder of {@code models}: good, good-again (the same model at another URI), constant or slow */
    private ResourceKey apply(String model, String rollout) {
        var annotations = rollout == null ? "{}" : "{serving.capstan.io/rollout: '" + rollout + "'}";
        return store.apply(parser.parse("isvc.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris, annotations: %s}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: test-iris}
                      storageUri: %s
                """.formatted(annotations, dir.resolve("models/" + model))).getFirst()).key();
    }

    private void traffic() {
        pool = Executors.newVirtualThreadPerTaskExecutor();
        var client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        var uri = URI.create("http://127.0.0.1:" + http.port() + "/v2/models/iris/infer");
        for (int c = 0; c < CLIENTS; c++) {
            int offset = c;
            pool.submit(() -> {
                for (int i = offset; !stop.get(); i++) {
                    var sent = rows;
                    var row = sent[i % sent.length];
                    var body = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[%s,%s,%s,%s]}]}"
                            .formatted(row[0], row[1], row[2], row[3]);
                    var response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 200) {
                        failures.incrementAndGet();
                        continue;
                    }
                    var version = Json.json().readTree(response.body()).path("model_version").asText();
                    if (version.equals("2")) firstCanaryAnswer.compareAndSet(0, System.nanoTime());
                    answers.computeIfAbsent(version, v -> new AtomicInteger()).incrementAndGet();
                }
                return null;
            });
        }
    }

    /** Reconciles as the controller runtime would, each time after the delay the result asks for, until a phase is reached. */
    private JsonNode runUntil(ResourceKey key, Duration limit, String... phases) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            var result = serving.reconciler().reconcile(key);
            var rollout = store.get(key).status().field("rollout").orElse(null);
            if (rollout != null && List.of(phases).contains(rollout.path("phase").asText())) return rollout;
            Thread.sleep(Math.max(20, result.requeueAfter().orElse(Duration.ofMillis(200)).toMillis()));
        }
        return store.get(key).status().field("rollout").orElseThrow();
    }

    private ResourceKey stableThenCanary(String canaryMode, String rollout) {
        var key = apply("good", null);
        serving.reconciler().reconcile(key);
        assertThat(store.get(key).status().phase()).isEqualTo("Ready");
        traffic();
        key = apply(canaryMode, rollout);
        serving.reconciler().reconcile(key);
        return key;
    }

    private static JsonNode lastDecision(JsonNode rollout) {
        var analysis = rollout.path("analysis");
        return analysis.get(analysis.size() - 1);
    }

    private static JsonNode check(JsonNode decision, String name) {
        for (var c : decision.path("checks")) if (c.path("name").asText().equals(name)) return c;
        throw new AssertionError("no check " + name + " in " + decision);
    }

    private void reportTimeToRollback(String what) {
        long first = firstCanaryAnswer.get();
        assertThat(first).as("the canary answered before it was rolled back").isNotZero();
        System.out.printf("canary %s: rolled back %d ms after its first request; answers by revision %s%n", what,
                (System.nanoTime() - first) / 1_000_000, answers);
    }

    @Test
    @Timeout(120)
    void aCanaryThatAlwaysPredictsOneClassIsRolledBackByThePredictionCheck() throws Exception {
        var key = stableThenCanary("constant", "{\"stepWeights\":[10,25,50],\"interval\":\"1s\",\"minSamples\":40}");
        var rollout = runUntil(key, Duration.ofSeconds(60), "RolledBack", "Promoted");
        reportTimeToRollback("that predicts one class");

        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("RolledBack");
        var decision = lastDecision(rollout);
        assertThat(decision.path("result").asText()).isEqualTo("Fail");
        var predictions = check(decision, "predictions");
        assertThat(predictions.path("result").asText()).isEqualTo("Fail");
        assertThat(predictions.path("test").asText()).isEqualTo("chi-square");
        assertThat(predictions.path("pValue").asDouble()).isLessThan(0.01);
        assertThat(predictions.path("classes").path("0").path("canary").asLong()).isEqualTo(predictions.path("canaryValues").asLong());
        assertThat(predictions.path("classes").size()).isEqualTo(3);
        // the other checks saw nothing wrong: the critical prediction check alone rolled it back, at once
        assertThat(check(decision, "errorRate").path("result").asText()).isEqualTo("Pass");
        assertThat(decision.path("action").asText()).startsWith("rolled back: critical check failed: predictions");
        assertThat(rollout.path("step").asInt()).isZero();

        var status = store.get(key).status();
        var traffic = status.field("components").orElseThrow().path("predictor").path("traffic");
        assertThat(traffic).hasSize(1);
        assertThat(traffic.get(0).path("revisionName").asText()).isEqualTo("iris-predictor-00001");
        assertThat(traffic.get(0).path("percent").asInt()).isEqualTo(100);
        assertThat(status.field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(1);
        // after the rollback, only the stable revision answers
        answers.clear();
        Thread.sleep(300);
        assertThat(answers.keySet()).containsOnly("1");
        assertThat(failures.get()).isZero();
        // the canary stays rolled back: reconciling again neither reloads it nor routes to it
        serving.reconciler().reconcile(key);
        assertThat(store.get(key).status().field("rollout").orElseThrow().path("phase").asText()).isEqualTo("RolledBack");
        assertThat(serving.endpoint().modelMetadata("iris", null).versions()).containsOnly("1");
    }

    @Test
    @Timeout(120)
    void aCanary20msSlowerIsRolledBackByTheLatencyCheck() throws Exception {
        // the predictions check is kept, at an alpha that a model answering alike fails only by a 1-in-1000 chance
        var key = stableThenCanary("slow", "{\"stepWeights\":[10,25,50],\"interval\":\"1s\",\"minSamples\":30,\"failureLimit\":2,"
                + "\"checks\":{\"errorRate\":{},\"p99Latency\":{},\"latencyShift\":{},\"predictions\":{\"alpha\":0.001}}}");
        var rollout = runUntil(key, Duration.ofSeconds(60), "RolledBack", "Promoted");
        reportTimeToRollback("20 ms slower");

        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("RolledBack");
        assertThat(rollout.path("failures").asInt()).isEqualTo(2);
        var decision = lastDecision(rollout);
        var shift = check(decision, "latencyShift");
        assertThat(shift.path("result").asText()).isEqualTo("Fail");
        assertThat(shift.path("test").asText()).isEqualTo("Mann-Whitney U");
        assertThat(shift.path("pValue").asDouble()).isLessThan(0.01);
        assertThat(shift.path("hodgesLehmannShiftMs").asDouble()).isGreaterThan(10);
        // its predictions are the good model's: that check passes
        assertThat(check(decision, "predictions").path("result").asText()).isEqualTo("Pass");
        assertThat(decision.path("action").asText()).contains("(2 of 2 failures)");
        var traffic = store.get(key).status().field("components").orElseThrow().path("predictor").path("traffic");
        assertThat(traffic).hasSize(1);
        assertThat(traffic.get(0).path("revisionName").asText()).isEqualTo("iris-predictor-00001");
    }

    @Test
    @Timeout(120)
    void aGoodCanaryIsPromotedStepByStep() throws Exception {
        var key = stableThenCanary("good-again", "{\"stepWeights\":[10,25,50],\"interval\":\"1s\",\"minSamples\":30}");
        var predictor = store.get(key).status().field("components").orElseThrow().path("predictor");
        // at the first step: canary 10%, a baseline cohort of the stable revision with 10%, the rest to stable
        assertThat(predictor.path("traffic").toString()).contains("{\"revisionName\":\"iris-predictor-00002\",\"percent\":10,\"latestRevision\":true,\"tag\":\"canary\"}",
                "{\"revisionName\":\"iris-predictor-00001\",\"percent\":10,\"latestRevision\":false,\"tag\":\"baseline\"}",
                "{\"revisionName\":\"iris-predictor-00001\",\"percent\":80,\"latestRevision\":false}");

        var rollout = runUntil(key, Duration.ofSeconds(90), "RolledBack", "Promoted");
        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("Promoted");
        var weights = new java.util.ArrayList<Integer>();
        for (var d : rollout.path("analysis")) {
            assertThat(d.path("result").asText()).as(d.toPrettyString()).isIn("Pass", "Inconclusive");
            if (d.path("result").asText().equals("Pass")) weights.add(d.path("weight").asInt());
        }
        assertThat(weights).as("one pass at each step").containsExactly(10, 25, 50);
        var status = store.get(key).status();
        assertThat(status.field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(2);
        var traffic = status.field("components").orElseThrow().path("predictor").path("traffic");
        assertThat(traffic).hasSize(1);
        assertThat(traffic.get(0).path("revisionName").asText()).isEqualTo("iris-predictor-00002");
        answers.clear();
        Thread.sleep(300);
        assertThat(answers.keySet()).containsOnly("2");
        assertThat(failures.get()).as("requests that failed across the rollout").isZero();
    }

    @Test
    @Timeout(60)
    void tooFewSamplesIsInconclusiveAndNeverAdvances() throws Exception {
        // no traffic at all: every analysis is Inconclusive, and the canary stays at its first step
        var key = apply("good", null);
        serving.reconciler().reconcile(key);
        key = apply("good-again", "{\"stepWeights\":[10,50],\"interval\":\"200ms\",\"minSamples\":20}");
        serving.reconciler().reconcile(key);
        for (int i = 0; i < 4; i++) {
            Thread.sleep(250);
            var result = serving.reconciler().reconcile(key);
            assertThat(result.requeueAfter()).as("an analysis in progress asks to be looked at again").isPresent();
        }
        var rollout = store.get(key).status().field("rollout").orElseThrow();
        assertThat(rollout.path("phase").asText()).isEqualTo("Progressing");
        assertThat(rollout.path("step").asInt()).isZero();
        assertThat(rollout.path("weight").asInt()).isEqualTo(10);
        assertThat(rollout.path("analysis").size()).isGreaterThanOrEqualTo(3);
        for (var d : rollout.path("analysis")) {
            assertThat(d.path("result").asText()).isEqualTo("Inconclusive");
            assertThat(d.path("action").asText()).contains("too few samples: canary 0, baseline 0, at least 20 each needed");
        }
    }

    @Test
    @Timeout(120)
    void noRolloutAdvancesWhileTheFreezeFires() throws Exception {
        var firing = new AtomicReference<String>("page alert iris-availability fires");
        serving.freezeRolloutsWhen((namespace, name) -> name.equals("iris") ? Optional.ofNullable(firing.get()) : Optional.empty());
        var key = stableThenCanary("good-again", "{\"stepWeights\":[10,50],\"interval\":\"500ms\",\"minSamples\":20}");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode rollout;
        do {
            Thread.sleep(Math.max(20, serving.reconciler().reconcile(key).requeueAfter().orElse(Duration.ofMillis(200)).toMillis()));
            rollout = store.get(key).status().field("rollout").orElseThrow();
        } while (rollout.path("analysis").findValues("action").stream().filter(a -> a.asText().startsWith("hold")).count() < 2
                && System.nanoTime() < deadline);
        assertThat(rollout.path("phase").asText()).isEqualTo("Progressing");
        assertThat(rollout.path("step").asInt()).as("passed analyses, but held at the first step").isZero();
        assertThat(lastDecision(rollout).path("result").asText()).isEqualTo("Pass");
        assertThat(lastDecision(rollout).path("action").asText()).isEqualTo("hold: passed, but frozen: page alert iris-availability fires");

        firing.set(null);
        rollout = runUntil(key, Duration.ofSeconds(60), "Promoted", "RolledBack");
        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("Promoted");
    }

    @Test
    @Timeout(120)
    void theManualGateWaitsForApprovalBeforePromoting() throws Exception {
        var spec = "{\"stepWeights\":[20],\"interval\":\"500ms\",\"minSamples\":20,\"manualGate\":true}";
        var key = stableThenCanary("good-again", spec);
        var rollout = runUntil(key, Duration.ofSeconds(60), "AwaitingApproval", "Promoted", "RolledBack");
        assertThat(rollout.path("phase").asText()).isEqualTo("AwaitingApproval");
        assertThat(rollout.path("message").asText()).isEqualTo("await approval: set serving.capstan.io/rollout-approve to iris-predictor-00002");
        // still split while it waits
        serving.reconciler().reconcile(key);
        assertThat(store.get(key).status().field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(1);
        assertThat(serving.endpoint().modelMetadata("iris", null).versions()).contains("1", "2");

        store.apply(parser.parse("isvc.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris, annotations: {serving.capstan.io/rollout: '%s', serving.capstan.io/rollout-approve: iris-predictor-00002}}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: test-iris}
                      storageUri: %s
                """.formatted(spec, dir.resolve("models/good-again"))).getFirst());
        serving.reconciler().reconcile(key);
        rollout = store.get(key).status().field("rollout").orElseThrow();
        assertThat(rollout.path("phase").asText()).isEqualTo("Promoted");
        assertThat(rollout.path("message").asText()).isEqualTo("promoted: approved by serving.capstan.io/rollout-approve");
        assertThat(store.get(key).status().field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(2);
    }

    @Test
    void anInvalidRolloutIsReportedByFieldAndIgnored() {
        var key = apply("good", null);
        serving.reconciler().reconcile(key);
        key = apply("good-again", "{\"stepWeights\":[10,60],\"interval\":\"soon\",\"checks\":{\"errorRate\":{\"max\":2},\"speed\":{}}}");
        serving.reconciler().reconcile(key);
        var status = store.get(key).status();
        var warnings = status.field("warnings").orElseThrow().toString();
        var at = "metadata.annotations[serving.capstan.io/rollout]";
        assertThat(warnings).contains(at + ".stepWeights[1]", at + ".interval", at + ".checks.errorRate.max", at + ".checks.speed",
                "the rollout annotation is ignored");
        assertThat(status.field("rollout")).isEmpty();
        // as without the annotation: the new revision takes all traffic
        assertThat(status.field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(2);
    }

    @Test
    @Timeout(60)
    void removingTheAnnotationCancelsTheRolloutAndTrafficFollowsTheSpec() {
        var key = apply("good", null);
        serving.reconciler().reconcile(key);
        key = apply("good-again", "{\"stepWeights\":[10,50],\"interval\":\"1m\"}");
        serving.reconciler().reconcile(key);
        assertThat(store.get(key).status().field("rollout").orElseThrow().path("phase").asText()).isEqualTo("Progressing");
        assertThat(serving.endpoint().modelMetadata("iris", null).versions()).contains("1", "2");

        key = apply("good-again", null);
        serving.reconciler().reconcile(key);
        var status = store.get(key).status();
        var rollout = status.field("rollout").orElseThrow();
        assertThat(rollout.path("phase").asText()).isEqualTo("Cancelled");
        assertThat(rollout.path("message").asText()).isEqualTo("cancelled: the serving.capstan.io/rollout annotation was removed");
        assertThat(status.field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(2);
        assertThat(serving.endpoint().modelMetadata("iris", null).versions()).containsOnly("2");
    }

    /** The 150 rows of examples/iris/iris.csv; shifted, as a drifting input stream would be. */
    static float[][] iris(boolean shifted) throws java.io.IOException {
        var lines = Files.readAllLines(Path.of("..", "examples", "iris", "iris.csv")).subList(1, 151);
        var out = new float[lines.size()][];
        for (int r = 0; r < lines.size(); r++) {
            var c = lines.get(r).split(",");
            var row = new float[] {Float.parseFloat(c[0]), Float.parseFloat(c[1]), Float.parseFloat(c[2]), Float.parseFloat(c[3])};
            out[r] = shifted ? new float[] {row[0] + 1.5f, row[1] - 1.0f, row[2] * 1.6f + 1.0f, row[3] + 0.8f} : row;
        }
        return out;
    }

    /** The training reference a ModelMonitor would hold for iris: its four columns. */
    private void irisIsTheTrainingReference() throws java.io.IOException {
        var rows = iris(false);
        var columns = new double[4][rows.length];
        for (int r = 0; r < rows.length; r++) for (int c = 0; c < 4; c++) columns[c][r] = rows[r][c];
        serving.canaryInputsAgainst((namespace, name, width) -> name.equals("iris") && width == 4 ? Optional.of(columns) : Optional.empty());
    }

    @Test
    @Timeout(120)
    void aCanaryWhoseTrafficDriftsFromTheTrainingReferenceIsRolledBackByTheInputDriftCheck() throws Exception {
        irisIsTheTrainingReference();
        rows = iris(true);
        var key = stableThenCanary("good-again", "{\"stepWeights\":[10,25,50],\"interval\":\"1s\",\"minSamples\":40,"
                + "\"checks\":{\"errorRate\":{},\"inputDrift\":{}}}");
        var rollout = runUntil(key, Duration.ofSeconds(60), "RolledBack", "Promoted");
        reportTimeToRollback("whose inputs drift from the training reference");

        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("RolledBack");
        var decision = lastDecision(rollout);
        var drift = check(decision, "inputDrift");
        assertThat(drift.path("result").asText()).isEqualTo("Fail");
        assertThat(drift.path("against").asText()).isEqualTo("reference");
        assertThat(drift.path("referenceRows").asInt()).isEqualTo(150);
        assertThat(drift.path("canaryRows").asInt()).isGreaterThanOrEqualTo(40);
        assertThat(drift.path("driftedColumns").asInt()).isEqualTo(4);
        assertThat(drift.path("columns")).hasSize(4).allSatisfy(c -> assertThat(c.path("pValue").asDouble()).isLessThan(0.001 / 4));
        assertThat(check(decision, "errorRate").path("result").asText()).isEqualTo("Pass");
        assertThat(decision.path("action").asText()).startsWith("rolled back: critical check failed: inputDrift");
        assertThat(rollout.path("step").asInt()).isZero();
        assertThat(store.get(key).status().field("rolledOutRevision").orElseThrow().asInt()).isEqualTo(1);
    }

    @Test
    @Timeout(120)
    void aCanaryServedTrafficLikeItsTrainingReferenceIsPromoted() throws Exception {
        irisIsTheTrainingReference();
        rows = iris(false);
        var key = stableThenCanary("good-again", "{\"stepWeights\":[10,50],\"interval\":\"1s\",\"minSamples\":40,"
                + "\"checks\":{\"errorRate\":{},\"inputDrift\":{}}}");
        var rollout = runUntil(key, Duration.ofSeconds(90), "RolledBack", "Promoted");
        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("Promoted");
        for (var d : rollout.path("analysis")) {
            if (!d.path("result").asText().equals("Pass")) continue;
            var drift = check(d, "inputDrift");
            assertThat(drift.path("against").asText()).isEqualTo("reference");
            assertThat(drift.path("driftedColumns").asInt()).isZero();
        }
    }

    @Test
    @Timeout(120)
    void aCanaryThatDisagreesWithTheBaselineOnIdenticalRequestsIsRolledBackByTheAgreementCheck() throws Exception {
        // only the agreement check: the one-class canary is caught by comparing answers to the very same requests
        var key = stableThenCanary("constant", "{\"stepWeights\":[10,25,50],\"interval\":\"1s\",\"minSamples\":40,"
                + "\"checks\":{\"agreement\":{\"min\":0.9}}}");
        var rollout = runUntil(key, Duration.ofSeconds(60), "RolledBack", "Promoted");
        reportTimeToRollback("that disagrees with the baseline");

        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("RolledBack");
        var agreement = check(lastDecision(rollout), "agreement");
        assertThat(agreement.path("result").asText()).isEqualTo("Fail");
        assertThat(agreement.path("compared").asLong()).isGreaterThanOrEqualTo(40);
        // the canary answers class 0 to everything; the baseline answers 0 to one row in three
        assertThat(agreement.path("agreement").asDouble()).isBetween(0.15, 0.55);
        assertThat(agreement.path("mirrorPercent").asInt()).isEqualTo(100);
        assertThat(lastDecision(rollout).path("action").asText()).startsWith("rolled back: critical check failed: agreement");
        assertThat(failures.get()).as("mirroring never fails a caller's request").isZero();
    }

    @Test
    @Timeout(120)
    void aCanaryThatAgreesOnIdenticalRequestsIsPromoted() throws Exception {
        var key = stableThenCanary("good-again", "{\"stepWeights\":[10,50],\"interval\":\"1s\",\"minSamples\":40,"
                + "\"checks\":{\"agreement\":{\"min\":0.99,\"mirrorPercent\":50}}}");
        var rollout = runUntil(key, Duration.ofSeconds(90), "RolledBack", "Promoted");
        assertThat(rollout.path("phase").asText()).as(rollout.toPrettyString()).isEqualTo("Promoted");
        int passes = 0;
        for (var d : rollout.path("analysis")) {
            if (d.path("result").asText().equals("Inconclusive")) {
                assertThat(d.path("action").asText()).contains("too few");
                continue;
            }
            var agreement = check(d, "agreement");
            assertThat(agreement.path("agreement").asDouble()).isEqualTo(1.0);
            assertThat(agreement.path("compared").asLong()).isGreaterThanOrEqualTo(40);
            passes++;
        }
        assertThat(passes).isEqualTo(2);
        assertThat(failures.get()).isZero();
    }
}
