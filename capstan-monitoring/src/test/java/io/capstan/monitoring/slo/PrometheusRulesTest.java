package io.capstan.monitoring.slo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.capstan.core.Problems;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated rules pass {@code promtool check rules}, and {@code promtool test rules} shows them alerting as
 * Capstan does: 2% errors against 99.9% page and ticket; 0.5% raise only a ticket.
 */
class PrometheusRulesTest {
    static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    @TempDir
    Path dir;

    static ServiceLevelObjectiveSpec spec(String yaml) throws Exception {
        var problems = new Problems();
        var spec = ServiceLevelObjectiveSpec.parse((ObjectNode) new YAMLMapper().readTree(yaml), problems);
        assertThat(problems.errors()).isEmpty();
        return spec;
    }

    static String promtool(Path dir, String... args) throws Exception {
        var command = new java.util.ArrayList<String>();
        command.add(PROMTOOL.toString());
        command.addAll(java.util.List.of(args));
        var process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("promtool took over 60 s");
        }
        var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void availabilityRulesAlertAsCapstanDoesUnderPromtool() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PROMTOOL), "Debian's prometheus package provides /usr/bin/promtool");
        var rules = PrometheusRules.render("default", "iris-availability", spec("""
                sli: {availability: {inferenceService: iris}}
                objective: 99.9
                """));
        Files.writeString(dir.resolve("rules.yaml"), rules);
        assertThat(promtool(dir, "check", "rules", "rules.yaml")).contains("SUCCESS: 16 rules found");
        Files.writeString(dir.resolve("test.yaml"), """
                rule_files: [rules.yaml]
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                      - series: 'capstan_serving_requests_total{namespace="default",model="iris",revision="1",outcome="success"}'
                        values: '0+980x180'
                      - series: 'capstan_serving_requests_total{namespace="default",model="iris",revision="1",outcome="model_failed"}'
                        values: '0+20x180'
                      - series: 'capstan_serving_requests_total{namespace="default",model="other",revision="1",outcome="model_failed"}'
                        values: '0+1000x180'
                    alert_rule_test:
                      - eval_time: 2h
                        alertname: CapstanIrisAvailabilityHighErrorBudgetBurn
                        exp_alerts:
                          - exp_labels: {severity: page, capstan_slo: iris-availability, capstan_namespace: default}
                            exp_annotations: {summary: "SLO default/iris-availability is burning its error budget too fast (page)"}
                      - eval_time: 2h
                        alertname: CapstanIrisAvailabilityErrorBudgetBurn
                        exp_alerts:
                          - exp_labels: {severity: ticket, capstan_slo: iris-availability, capstan_namespace: default}
                            exp_annotations: {summary: "SLO default/iris-availability is burning its error budget too fast (ticket)"}
                    promql_expr_test:
                      - expr: round(slo:sli_error:ratio_rate5m{capstan_slo="iris-availability"} * 1000)
                        eval_time: 1h
                        exp_samples:
                          - labels: '{capstan_namespace="default",capstan_slo="iris-availability",capstan_window="5m"}'
                            value: 20
                      - expr: round(slo:current_burn_rate:ratio{capstan_slo="iris-availability"})
                        eval_time: 1h
                        exp_samples:
                          - labels: '{capstan_namespace="default",capstan_slo="iris-availability",capstan_window="5m"}'
                            value: 20
                  - interval: 1m
                    input_series:
                      - series: 'capstan_serving_requests_total{namespace="default",model="iris",revision="1",outcome="success"}'
                        values: '0+995x480'
                      - series: 'capstan_serving_requests_total{namespace="default",model="iris",revision="1",outcome="not_ready"}'
                        values: '0+5x480'
                    alert_rule_test:
                      - eval_time: 7h
                        alertname: CapstanIrisAvailabilityHighErrorBudgetBurn
                        exp_alerts: []
                      - eval_time: 7h
                        alertname: CapstanIrisAvailabilityErrorBudgetBurn
                        exp_alerts:
                          - exp_labels: {severity: ticket, capstan_slo: iris-availability, capstan_namespace: default}
                            exp_annotations: {summary: "SLO default/iris-availability is burning its error budget too fast (ticket)"}
                """);
        assertThat(promtool(dir, "test", "rules", "test.yaml")).contains("SUCCESS");
    }

    @Test
    void latencyAndPlatformRulesCheck() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PROMTOOL), "Debian's prometheus package provides /usr/bin/promtool");
        var latency = PrometheusRules.render("team-a", "iris-latency", spec("""
                sli: {latency: {inferenceService: iris, threshold: 250ms}}
                objective: 99
                period: 7d
                """));
        assertThat(latency).contains("capstan_serving_request_duration_seconds_bucket{namespace=\"team-a\",model=\"iris\",le=\""
                + PrometheusRules.le(Duration.ofMillis(250)) + "\"}", "ratio_rate7d");
        Files.writeString(dir.resolve("latency.yaml"), latency);
        promtool(dir, "check", "rules", "latency.yaml");
        var runs = PrometheusRules.render("default", "runs", spec("sli: {pipelineRuns: {}}\nobjective: 95\n"));
        assertThat(runs).contains("capstan_slo_events_total{namespace=\"default\",slo=\"runs\",outcome=\"bad\"}");
        Files.writeString(dir.resolve("runs.yaml"), runs);
        promtool(dir, "check", "rules", "runs.yaml");
        var drift = PrometheusRules.render("default", "drift", spec("sli: {driftRate: {monitor: iris-drift}}\nobjective: 90\n"));
        assertThat(drift).contains("capstan_drift_windows_total{namespace=\"default\",monitor=\"iris-drift\",outcome=\"drifted\"}");
        Files.writeString(dir.resolve("drift.yaml"), drift);
        promtool(dir, "check", "rules", "drift.yaml");
        // the bucket the threshold is read at is a real boundary of serving's histogram, at or below the threshold
        assertThat(Double.parseDouble(PrometheusRules.le(Duration.ofMillis(250)))).isBetween(0.15, 0.25);
    }

    @Test
    void artifactIntegrityRulesReadTheIntegrityChecksUnderPromtool() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(PROMTOOL), "Debian's prometheus package provides /usr/bin/promtool");
        var rules = PrometheusRules.render("default", "integrity", spec("sli: {artifactIntegrity: {}}\nobjective: 99.9\n"));
        Files.writeString(dir.resolve("rules.yaml"), rules);
        assertThat(promtool(dir, "check", "rules", "rules.yaml")).contains("SUCCESS");
        // one corrupt read in a hundred, the rest of them and every cache check fine: a 1% error ratio
        Files.writeString(dir.resolve("test.yaml"), """
                rule_files: [rules.yaml]
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                      - series: 'capstan_artifact_integrity_checks_total{check="read",outcome="ok"}'
                        values: '0+89x180'
                      - series: 'capstan_artifact_integrity_checks_total{check="cache",outcome="ok"}'
                        values: '0+10x180'
                      - series: 'capstan_artifact_integrity_checks_total{check="read",outcome="failed"}'
                        values: '0+1x180'
                    promql_expr_test:
                      - expr: round(slo:sli_error:ratio_rate5m{capstan_slo="integrity"} * 1000)
                        eval_time: 1h
                        exp_samples:
                          - labels: '{capstan_namespace="default",capstan_slo="integrity",capstan_window="5m"}'
                            value: 10
                    alert_rule_test:
                      - eval_time: 2h
                        alertname: CapstanIntegrityHighErrorBudgetBurn
                        exp_alerts:
                          - exp_labels: {severity: page, capstan_slo: integrity, capstan_namespace: default}
                            exp_annotations: {summary: "SLO default/integrity is burning its error budget too fast (page)"}
                """);
        assertThat(promtool(dir, "test", "rules", "test.yaml")).contains("SUCCESS");
    }
}
