package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.store.Database;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Capstan servers, each a separate OS process with its own home and port, on one PostgreSQL schema, with a
 * 3-second lease. The leader is killed with SIGKILL in the middle of a 100-step pipeline and of a Katib experiment
 * while a client sends predictions to the other server. The survivor takes the lead within the lease time, finishes
 * both, runs no step or trial again whose result was stored before the kill, never runs one twice at a time, and
 * answers every prediction. Takeover time and failed requests are printed. Needs {@code -Dcapstan.test.pg.url}.
 */
class HighAvailabilityTest {
    private static final int LEASE_TTL_SECONDS = 3;
    private static final int STEPS = 100;
    /** The step that sleeps 10 s instead of 50 ms: the leader is killed while it runs. */
    private static final String SLOW_STEP = "s030";
    private static final String INFER = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Server> servers = new ArrayList<>();
    private String baseUrl;
    private String schema;

    @TempDir
    Path dir;

    record Server(String name, Path home, int port, Process process) {
        String token() {
            return io.capstan.security.AdminToken.read(home).orElseThrow();
        }
    }

    @BeforeEach
    void createSchema() {
        var url = TestDatabases.postgresUrl();
        Assumptions.assumeTrue(url.isPresent(), "needs PostgreSQL: set -D" + TestDatabases.PG_URL_PROPERTY);
        baseUrl = url.get();
        schema = "capstan_ha_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (var admin = Database.open(baseUrl, "", "")) {
            admin.jdbi().useHandle(h -> h.execute("CREATE SCHEMA " + schema));
        }
    }

    @AfterEach
    void stopAndDrop() throws InterruptedException {
        for (var s : servers) s.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        if (schema == null) return;
        try (var admin = Database.open(baseUrl, "", "")) {
            admin.jdbi().useHandle(h -> h.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE"));
        }
    }

    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void theFollowerTakesOverWithoutRunningAFinishedStepOrTrialAgainAndKeepsServing() throws Exception {
        var first = start("a");
        var second = start("b");
        await("both replicas ready", Duration.ofSeconds(90), () -> ready(first) && ready(second));
        await("one replica to lead", Duration.ofSeconds(30), () -> leads(first) || leads(second));
        var leader = leads(first) ? first : second;
        var survivor = leader == first ? second : first;
        assertThat(leads(survivor)).as("two leaders").isFalse();

        // Inference: ready on the leader, answered by the follower too.
        var applied = post(leader, "/apis/capstan/v1/apply", "application/yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: ha-model}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: test-row-sum}
                """);
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        await("the follower to answer predictions", Duration.ofSeconds(60), () -> infer(survivor) == 200);

        // A watch on the follower, open across the failover.
        var watched = new CopyOnWriteArrayList<String>();
        Thread.ofVirtual().start(() -> {
            try {
                http.send(request(survivor, "/apis/capstan/v1/namespaces/default/pipelineruns?watch=true").build(),
                        HttpResponse.BodyHandlers.ofLines()).body().forEach(watched::add);
            } catch (IOException | java.io.UncheckedIOException | InterruptedException e) {
                watched.add("watch ended: " + e);
            }
        });

        var trialLedger = dir.resolve("trials.log");
        var stepLedger = dir.resolve("steps.log");
        assertThat(post(leader, "/apis/capstan/v1/apply", "application/yaml", experiment(trialLedger)).statusCode()).isEqualTo(200);
        assertThat(post(leader, "/apis/capstan/v1/apply", "application/json", pipelineRun(stepLedger)).statusCode()).isEqualTo(200);

        var requests = new AtomicLong();
        var failures = new CopyOnWriteArrayList<String>();
        var inferring = new AtomicBoolean(true);
        var client = Thread.ofVirtual().start(() -> {
            while (inferring.get()) {
                requests.incrementAndGet();
                try {
                    var r = http.send(request(survivor, "/v2/models/ha-model/infer").timeout(Duration.ofSeconds(5))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(INFER)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) failures.add(r.statusCode() + " " + r.body());
                } catch (IOException e) {
                    failures.add(e.toString());
                } catch (InterruptedException e) {
                    return;
                }
                LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
            }
        });

        // Killed while the slow step runs (it would outlast the takeover) and while trials run.
        await("the leader to be mid-pipeline and mid-experiment", Duration.ofSeconds(90), () -> {
            var steps = lines(stepLedger);
            var trials = lines(trialLedger);
            return steps.stream().anyMatch(l -> l.startsWith("start " + SLOW_STEP + " "))
                    && count(trials, "end ") >= 2 && count(trials, "start ") > count(trials, "end ");
        });
        leader.process().destroyForcibly();
        long killedAt = System.nanoTime();
        assertThat(leader.process().waitFor(10, TimeUnit.SECONDS)).isTrue();

        // What the store held when the leader died: these ran to the end and their results are stored.
        var run = get(survivor, "/apis/capstan/v1/namespaces/default/pipelineruns/ha-run");
        var storedSteps = new HashSet<String>();
        run.path("status").path("tasks").properties().forEach(e -> {
            if (e.getValue().path("state").asText().equals("SUCCEEDED")) storedSteps.add(e.getKey().substring(e.getKey().lastIndexOf('/') + 1));
        });
        var storedTrials = new HashSet<String>();
        get(survivor, "/apis/capstan/v1/namespaces/default/trials").path("items").forEach(t -> {
            if (t.path("status").path("phase").asText().equals("Succeeded")) storedTrials.add(t.path("metadata").path("name").asText());
        });
        assertThat(storedSteps).as("steps stored as finished before the kill").isNotEmpty();
        assertThat(storedTrials).as("trials stored as finished before the kill").isNotEmpty();

        await("the survivor to lead", Duration.ofSeconds(4L * LEASE_TTL_SECONDS), () -> leads(survivor));
        long takeoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);

        var done = await("the pipeline run to finish on the survivor", Duration.ofSeconds(120),
                () -> phaseOf(survivor, "/apis/capstan/v1/namespaces/default/pipelineruns/ha-run").matches("Succeeded|Failed|Cancelled"));
        var exp = await("the experiment to finish on the survivor", Duration.ofSeconds(120),
                () -> phaseOf(survivor, "/apis/capstan/v1/namespaces/default/experiments/ha-exp")
                        .matches("Succeeded|Failed"));
        inferring.set(false);
        client.join(Duration.ofSeconds(10));

        System.out.printf("HA failover: the survivor led %d ms after the leader's kill -9 (lease ttl %d s); "
                        + "%d predictions sent to the survivor, %d failed; %d steps and %d trials were stored as finished at the kill%n",
                takeoverMillis, LEASE_TTL_SECONDS, requests.get(), failures.size(), storedSteps.size(), storedTrials.size());

        System.out.println("HA failover: runs of the slow step " + SLOW_STEP + ", killed with the leader: "
                + lines(stepLedger).stream().filter(l -> l.contains(" " + SLOW_STEP)).toList() + "; trial ledger: " + lines(trialLedger));

        assertThat(takeoverMillis).as("takeover within the lease time plus one renewal period and a margin")
                .isLessThan(TimeUnit.SECONDS.toMillis(2L * LEASE_TTL_SECONDS));
        var finalRun = get(survivor, "/apis/capstan/v1/namespaces/default/pipelineruns/ha-run");
        assertThat(finalRun.path("status").path("phase").asText()).as(finalRun.path("status").toString()).isEqualTo("Succeeded");
        var steps = lines(stepLedger);
        var stepStarts = starts(steps);
        for (int i = 0; i < STEPS; i++) assertThat(steps).as("step %s ended", step(i)).contains("end " + step(i));
        for (var s : storedSteps) assertThat(stepStarts.get(s)).as("runs of step %s, stored as finished before the kill", s).isEqualTo(1);
        assertThat(steps).as("steps that started while an earlier run of theirs still ran").noneMatch(l -> l.startsWith("overlap "));

        var finalExp = get(survivor, "/apis/capstan/v1/namespaces/default/experiments/ha-exp");
        assertThat(finalExp.path("status").path("phase").asText()).as(finalExp.path("status").toString()).isEqualTo("Succeeded");
        var trials = get(survivor, "/apis/capstan/v1/namespaces/default/trials").path("items");
        assertThat(trials).hasSize(6).allSatisfy(t -> assertThat(t.path("status").path("phase").asText()).isEqualTo("Succeeded"));
        var trialLines = lines(trialLedger);
        var trialStarts = starts(trialLines);
        for (var t : storedTrials) assertThat(trialStarts.get(t)).as("runs of trial %s, stored as finished before the kill", t).isEqualTo(1);
        assertThat(trialLines).as("trials that started while an earlier run of theirs still ran").noneMatch(l -> l.startsWith("overlap "));

        assertThat(failures).as("predictions the survivor failed out of %d", requests.get()).isEmpty();
        assertThat(requests.get()).isGreaterThan(10);
        assertThat(watched).as("the survivor's watch saw the run finish").anyMatch(l -> l.contains("\"ha-run\"") && l.contains("\"Succeeded\""));
        assertThat(done).isTrue();
        assertThat(exp).isTrue();
    }

    private static String step(int i) {
        return "s%03d".formatted(i);
    }

    /** A chain of 100 steps, each retried up to twice, each writing its start and end to {@code ledger}; one is slow. */
    private static String pipelineRun(Path ledger) {
        var sb = new StringBuilder("""
                pipelineInfo: {name: ha-chain}
                schemaVersion: 2.1.0
                sdkVersion: kfp-2.13.0
                components:
                  comp-step:
                    executorLabel: exec-step
                    inputDefinitions:
                      parameters:
                        name: {parameterType: STRING}
                        sleep: {parameterType: STRING}
                deploymentSpec:
                  executors:
                    exec-step:
                      container:
                        image: alpine:3
                        command: [sh, -c, '%s']
                        args: ["{{$.inputs.parameters['name']}}", "{{$.inputs.parameters['sleep']}}"]
                root:
                  dag:
                    tasks:
                """.formatted(ledgerScript(ledger, "$0", "$1")));
        for (int i = 0; i < STEPS; i++) {
            sb.append("      ").append(step(i)).append(":\n");
            sb.append("        taskInfo: {name: ").append(step(i)).append("}\n");
            sb.append("        componentRef: {name: comp-step}\n");
            sb.append("        retryPolicy: {maxRetryCount: 2}\n");
            if (i > 0) sb.append("        dependentTasks: [").append(step(i - 1)).append("]\n");
            sb.append("        inputs: {parameters: {name: {runtimeValue: {constant: ").append(step(i)).append("}}, sleep: {runtimeValue: {constant: '")
                    .append(step(i).equals(SLOW_STEP) ? "10" : "0.05").append("'}}}}\n");
        }
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "ha-run");
        body.putObject("spec").put("pipelineSpec", sb.toString()).put("enableCaching", false);
        return body.toString();
    }

    /** Six trials, two at a time, each taking four seconds and writing its start and end to {@code ledger}. */
    private static String experiment(Path ledger) {
        return """
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: ha-exp}
                spec:
                  objective: {type: minimize, objectiveMetricName: loss}
                  algorithm: {algorithmName: random, algorithmSettings: [{name: random_state, value: '5'}]}
                  parallelTrialCount: 2
                  maxTrialCount: 6
                  maxFailedTrialCount: 0
                  parameters:
                    - {name: x, parameterType: double, feasibleSpace: {min: "0.1", max: "0.9"}}
                  trialTemplate:
                    primaryContainerName: main
                    trialParameters:
                      - {name: x, reference: x}
                    trialSpec:
                      apiVersion: batch/v1
                      kind: Job
                      spec:
                        backoffLimit: 2
                        template:
                          spec:
                            containers:
                              - name: main
                                image: busybox
                                command: [sh, -c, '%s; echo loss=${trialParameters.x}']
                            restartPolicy: Never
                """.formatted(ledgerScript(ledger, "$CAPSTAN_TRIAL_NAME", "4"));
    }

    /**
     * A shell script that writes {@code start NAME PID} to {@code ledger}, sleeps, then writes {@code end NAME}; before
     * it starts it writes {@code overlap NAME PID} for each earlier run of NAME whose process still lives.
     */
    private static String ledgerScript(Path ledger, String name, String sleep) {
        return ("for p in $(sed -n \"s/^start %2$s //p\" %1$s); do kill -0 $p 2>/dev/null && echo \"overlap %2$s $p\" >> %1$s; done;"
                + " echo \"start %2$s $$\" >> %1$s; sleep %3$s; echo \"end %2$s\" >> %1$s").formatted(ledger, name, sleep);
    }

    /** How many times each name started, from {@code start NAME PID} lines. */
    private static Map<String, Integer> starts(List<String> lines) {
        var counts = new HashMap<String, Integer>();
        for (var l : lines) if (l.startsWith("start ")) counts.merge(l.split(" ")[1], 1, Integer::sum);
        return counts;
    }

    private static long count(List<String> lines, String prefix) {
        return lines.stream().filter(l -> l.startsWith(prefix)).count();
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private Server start(String name) throws IOException {
        var home = dir.resolve(name);
        Files.createDirectories(home);
        int port = freePort();
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var pb = new ProcessBuilder(java, "-Xss2m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                "io.capstan.server.ServerMain");
        var env = pb.environment();
        env.put("CAPSTAN_HOME", home.toString());
        env.put("CAPSTAN_PORT", Integer.toString(port));
        env.put("CAPSTAN_GRPC_PORT", Integer.toString(freePort()));
        // The server refuses a password in the URL: user and password move to their variables.
        var uri = URI.create(baseUrl.substring("jdbc:".length()));
        var query = new ArrayList<String>();
        for (var param : Optional.ofNullable(uri.getQuery()).orElse("").split("&")) {
            if (param.startsWith("user=")) env.put("CAPSTAN_DB_USER", param.substring(5));
            else if (param.startsWith("password=")) env.put("CAPSTAN_DB_PASSWORD", param.substring(9));
            else if (!param.isEmpty()) query.add(param);
        }
        query.add("currentSchema=" + schema);
        env.put("CAPSTAN_DB_URL", "jdbc:" + uri.getScheme() + "://" + uri.getRawAuthority() + uri.getRawPath() + "?" + String.join("&", query));
        env.put("CAPSTAN_LEASE_TTL_SECONDS", Integer.toString(LEASE_TTL_SECONDS));
        env.put("CAPSTAN_RESYNC_SECONDS", "5");
        env.put("CAPSTAN_EXECUTION", "host");
        pb.redirectErrorStream(true).redirectOutput(home.resolve("server.log").toFile());
        var server = new Server(name, home, port, pb.start());
        servers.add(server);
        return server;
    }

    private boolean ready(Server s) {
        if (!s.process().isAlive()) throw new AssertionError("server " + s.name() + " exited: " + log(s));
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/readyz")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether the server's {@code /readyz} says that it leads the controllers. */
    private boolean leads(Server s) {
        try {
            var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/readyz")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.body().contains("this replica leads the controllers");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private int infer(Server s) {
        try {
            return http.send(request(s, "/v2/models/ha-model/infer").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(INFER)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String log(Server s) {
        try {
            return Files.readString(s.home().resolve("server.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private HttpRequest.Builder request(Server s, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).header("Authorization", "Bearer " + s.token());
    }

    private HttpResponse<String> post(Server s, String path, String contentType, String body) throws Exception {
        return http.send(request(s, path).header("Content-Type", contentType).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode get(Server s, String path) throws Exception {
        var r = http.send(request(s, path).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return Json.json().readTree(r.body());
    }

    private String phaseOf(Server s, String path) {
        try {
            return get(s, path).path("status").path("phase").asText();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static boolean await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
        return true;
    }

    private static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
