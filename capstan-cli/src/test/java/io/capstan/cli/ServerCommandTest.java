package io.capstan.cli;

import io.capstan.core.CapstanConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ServerCommandTest {
    private static ServerCommand parsed(String... args) {
        var root = new Capstan(Map.of(), Clock.systemUTC(), System.in, () -> false);
        var cmd = Capstan.commandLine(root);
        var result = cmd.parseArgs(args);
        return (ServerCommand) result.subcommand().commandSpec().userObject();
    }

    @Test
    void flagsOverrideTheEnvironment() {
        var env = Map.of("CAPSTAN_PORT", "9000", "CAPSTAN_HOME", "/tmp/env-home");

        var config = parsed("server", "--port", "9100", "--grpc-port", "9101", "--home", "/tmp/flag-home").config(env);

        assertThat(config.port()).isEqualTo(9100);
        assertThat(config.grpcPort()).isEqualTo(9101);
        assertThat(config.home()).isEqualTo(Path.of("/tmp/flag-home"));
        assertThat(config.dbUrl()).isEqualTo(CapstanConfig.embeddedDbUrl(Path.of("/tmp/flag-home")));
    }

    @Test
    void theEnvironmentAppliesWithoutFlags() {
        var config = parsed("server").config(Map.of("CAPSTAN_PORT", "9000", "CAPSTAN_DB_URL", "jdbc:postgresql://db/capstan"));

        assertThat(config.port()).isEqualTo(9000);
        assertThat(ServerCommand.database(config)).isEqualTo("postgresql");
    }

    @Test
    void theEmbeddedDatabaseIsNamedSo() {
        assertThat(ServerCommand.database(CapstanConfig.fromEnvironment(Map.of()))).isEqualTo("h2 embedded");
    }

    @Test
    void aPortOutOfRangeIsInvalidInput() {
        var run = new Cli().run("server", "--port", "70000");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.err()).startsWith("error: port: port must be 0..65535, got 70000");
    }

    @Test
    void aNonNumericPortIsAUsageError() {
        var run = new Cli().run("server", "--port", "eighty");

        assertThat(run.exitCode()).isEqualTo(CommandLine.ExitCode.USAGE);
    }
}
