package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.server.CapstanServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan slo rules NAME} against a real server: the SLO's Prometheus rules, or one sentence and exit 3. */
class SloCommandTest {
    @TempDir
    static Path home;
    static CapstanServer server;

    @BeforeAll
    static void start() {
        server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0",
                "CAPSTAN_GRPC_PORT", "0")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Cli cli() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    @Test
    void printsTheRecordingAndAlertingRulesOfAnSlo() throws Exception {
        var file = home.resolve("slo.yaml");
        Files.writeString(file, """
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ServiceLevelObjective
                metadata: {name: iris-latency, namespace: team-a}
                spec:
                  sli: {latency: {inferenceService: iris, threshold: 100ms}}
                  objective: 99.5
                """);
        var applied = cli().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        var rules = cli().run("slo", "rules", "iris-latency", "-n", "team-a");
        assertThat(rules.exitCode()).as(rules.err()).isZero();
        assertThat(rules.out()).contains("groups:", "record: slo:sli_error:ratio_rate5m", "record: slo:sli_error:ratio_rate3d",
                "record: slo:period_error_budget_remaining:ratio", "alert: CapstanIrisLatencyHighErrorBudgetBurn",
                "alert: CapstanIrisLatencyErrorBudgetBurn", "capstan_serving_request_duration_seconds_bucket{namespace=\"team-a\",model=\"iris\"",
                "(14.4 * 0.005)", "(1 * 0.005)");
        var missing = cli().run("slo", "rules", "nope");
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.err()).contains("nope");
    }
}
