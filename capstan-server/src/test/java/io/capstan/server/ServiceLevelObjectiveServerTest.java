package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ServiceLevelObjective on a served model's availability: clean traffic meets it; a burst of model failures fires
 * the page and ticket alerts in status and on /metrics. The Grafana dashboards in deploy/grafana query only metrics
 * this server exposes, with a monitor (reference taken from the first requests) and the SLO running.
 */
class ServiceLevelObjectiveServerTest {
    static final String SLO = "/apis/capstan/v1/namespaces/default/servicelevelobjectives/flaky-availability";
    static final Path DASHBOARDS = Path.of("..", "deploy", "grafana").toAbsolutePath().normalize();

    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        var reply = server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: flaky}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: test-fails-on-negative}
                ---
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ServiceLevelObjective
                metadata: {name: flaky-availability}
                spec:
                  sli: {availability: {inferenceService: flaky}}
                  objective: 99.9
                  interval: 300ms
                ---
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: flaky-drift}
                spec:
                  inferenceService: flaky
                  reference: {fromRequests: 40, features: [a, b, c]}
                  window: {rows: 40}
                  interval: 300ms
                """);
        assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/flaky",
                s -> s.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(60));
        server.await(SLO, s -> s.path("status").path("phase").asText().equals("Met"), Duration.ofSeconds(30));
        server.await("/apis/capstan/v1/namespaces/default/modelmonitors/flaky-drift",
                s -> s.path("status").path("phase").asText().equals("Collecting"), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static int infer(float first) {
        var body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[10,3],\"datatype\":\"FP32\",\"data\":[" + first
                + ",1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]}]}";
        return server.send("POST", "/v2/models/flaky/infer", body, "application/json").status();
    }

    @Test
    void aBurstOfModelFailuresFiresThePageAndTicketAlerts() {
        double before = server.get(SLO).json().path("status").path("events").path("total").asDouble();
        for (int i = 0; i < 100; i++) assertThat(infer(1)).isEqualTo(200);
        var met = server.await(SLO, s -> s.path("status").path("events").path("total").asDouble() >= before + 100, Duration.ofSeconds(30)).path("status");
        assertThat(met.path("phase").asText()).isEqualTo("Met");
        assertThat(met.path("sli").asDouble()).isEqualTo(1.0);
        assertThat(met.path("burnRates").path("1h").asDouble()).isZero();
        assertThat(met.path("alerts")).hasSize(4).allMatch(a -> !a.path("firing").asBoolean());

        for (int i = 0; i < 20; i++) assertThat(infer(-1)).isEqualTo(500);
        var burning = server.await(SLO, s -> s.path("status").path("events").path("total").asDouble() >= before + 120, Duration.ofSeconds(30)).path("status");
        assertThat(burning.path("phase").asText()).as(burning.toString()).isEqualTo("Paging");
        // 20 failures in all the requests so far (120 here, more if the other test ran first), against a 0.1% budget
        double total = burning.path("events").path("total").asDouble();
        assertThat(burning.path("events").path("good").asDouble()).isEqualTo(total - 20);
        double burn = 20 / total / (1 - 0.999);
        assertThat(burning.path("burnRates").path("5m").asDouble()).isCloseTo(burn, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(burning.path("alerts")).allMatch(a -> a.path("firing").asBoolean());
        assertThat(burning.path("errorBudgetRemaining").asDouble()).isLessThan(0);
        var metrics = server.get("/metrics").body();
        assertThat(metrics).contains("capstan_slo_alert{namespace=\"default\",severity=\"page\",slo=\"flaky-availability\"} 1.0",
                "capstan_slo_events_total{namespace=\"default\",outcome=\"bad\",slo=\"flaky-availability\"} 20.0");
        assertThat(metrics).contains("capstan_slo_burn_rate{namespace=\"default\",slo=\"flaky-availability\",window=\"3d\"} "
                + String.valueOf(burning.path("burnRates").path("3d").asDouble()).substring(0, 5));
    }

    @Test
    void theGrafanaDashboardsParseAndQueryOnlyMetricsTheServerExposes() throws Exception {
        for (int i = 0; i < 10; i++) assertThat(infer(1)).isEqualTo(200);
        server.await("/apis/capstan/v1/namespaces/default/modelmonitors/flaky-drift",
                s -> s.path("status").has("features"), Duration.ofSeconds(30));
        var exposed = new TreeSet<String>();
        for (var line : server.get("/metrics").body().split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            exposed.add(line.split("[{ ]", 2)[0]);
        }
        var metric = Pattern.compile("\\b((?:capstan|jvm|process)_[a-z0-9_]+)");
        int queried = 0;
        try (var files = Files.list(DASHBOARDS)) {
            for (var file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                JsonNode dashboard = new ObjectMapper().readTree(file.toFile());
                assertThat(dashboard.path("title").asText()).as(file.toString()).isNotBlank();
                assertThat(dashboard.path("panels").size()).as(file.toString()).isGreaterThan(4);
                for (var panel : dashboard.path("panels")) {
                    assertThat(panel.path("targets").size()).as(panel.toString()).isPositive();
                    for (var target : panel.path("targets")) {
                        var m = metric.matcher(target.path("expr").asText());
                        while (m.find()) {
                            queried++;
                            assertThat(exposed).as(file.getFileName() + " panel '" + panel.path("title").asText() + "'").contains(m.group(1));
                        }
                    }
                }
            }
        }
        assertThat(queried).isGreaterThan(15);
    }

    @Test
    void theLatencyRulesReadABucketServingReallyExposes() {
        assertThat(infer(1)).isEqualTo(200);
        var metrics = server.get("/metrics").body();
        for (var threshold : new Duration[] {Duration.ofMillis(5), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(2)}) {
            var le = io.capstan.monitoring.slo.PrometheusRules.le(threshold);
            assertThat(metrics).as("bucket le=%s for %s", le, threshold)
                    .containsPattern("capstan_serving_request_duration_seconds_bucket\\{(?=[^}]*model=\"flaky\")[^}]*le=\"" + Pattern.quote(le) + "\"");
        }
    }
}
