package io.capstan.cli;

import io.capstan.core.CapstanConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
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
    void theServerVerbReadsOnlyItsOwnOptionsAndStillGetsItsParent() {
        var root = new Capstan(Map.of("CAPSTAN_PORT", "9000"), Clock.systemUTC(), System.in, () -> false);

        var cmd = Capstan.commandLine(root, new String[] {"server", "--home", "/tmp/h"});
        var server = cmd.parseArgs("server", "--home", "/tmp/h").subcommand().commandSpec();

        assertThat(cmd.getSubcommands().keySet()).containsExactly("server");
        assertThat(server.parent().userObject()).isSameAs(root);
        assertThat(((ServerCommand) server.userObject()).config(root.env()).port()).isEqualTo(9000);
    }

    @Test
    void helpAndUnknownVerbsGetEveryVerb() {
        var root = new Capstan(Map.of(), Clock.systemUTC(), System.in, () -> false);
        var all = Capstan.commandLine(root).getSubcommands().keySet();

        assertThat(all).contains("server", "apply", "quickstart", "help").hasSizeGreaterThan(15);
        assertThat(Capstan.commandLine(root, new String[] {"help", "server"}).getSubcommands().keySet()).containsExactlyElementsOf(all);
        assertThat(Capstan.commandLine(root, new String[] {"sever"}).getSubcommands().keySet()).containsExactlyElementsOf(all);
        assertThat(Capstan.commandLine(root, new String[] {"--help"}).getSubcommands().keySet()).containsExactlyElementsOf(all);
        assertThat(Capstan.commandLine(root, new String[0]).getSubcommands().keySet()).containsExactlyElementsOf(all);
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

    @Test
    void aPasswordInsideTheDatabaseUrlIsRefusedWithoutRepeatingIt() {
        for (var url : List.of("jdbc:postgresql://db/capstan?user=u&password=hunter2-url", "jdbc:h2:file:/tmp/x;USER=sa;PASSWORD=hunter2-url",
                "jdbc:postgresql://u:hunter2-url@db/capstan")) {
            var run = new Cli().run("server", "--db-url", url);

            assertThat(run.exitCode()).as(url).isEqualTo(ExitCodes.INVALID_INPUT);
            assertThat(run.err()).contains("db-url", "CAPSTAN_DB_PASSWORD", "--db-password-file").doesNotContain("hunter2");
        }
        var fromEnv = new Cli().env("CAPSTAN_DB_URL", "jdbc:postgresql://db/c?password=hunter2-env").run("server");
        assertThat(fromEnv.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(fromEnv.err()).doesNotContain("hunter2");
    }

    @Test
    void theDatabasePasswordComesFromAFile(@TempDir Path dir) throws Exception {
        var file = Files.writeString(dir.resolve("pw"), "from-file-pw\n");

        assertThat(parsed("server", "--db-password-file", file.toString()).config(Map.of()).dbPassword()).isEqualTo("from-file-pw");
        assertThat(parsed("server").config(Map.of("CAPSTAN_DB_PASSWORD_FILE", file.toString())).dbPassword()).isEqualTo("from-file-pw");
        var both = new Cli().env("CAPSTAN_DB_PASSWORD", "direct").run("server", "--db-password-file", file.toString());
        assertThat(both.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(both.err()).contains("keep only one").doesNotContain("direct", "from-file-pw");
        var config = parsed("server", "--db-password-file", file.toString()).config(Map.of("CAPSTAN_S3_BUCKET", "b", "CAPSTAN_S3_SECRET_KEY", "s3-secret-x"));
        assertThat(config.toString()).doesNotContain("from-file-pw", "s3-secret-x");
    }

    @Test
    void aWrongDatabasePasswordFailsWithoutShowingThePassword(@TempDir Path home) {
        try (var db = io.capstan.store.Database.open(CapstanConfig.embeddedDbUrl(home), "capstan", "the-right-one")) {
            db.migrate("store");
        }
        var run = new Cli().env("CAPSTAN_HOME", home.toString()).env("CAPSTAN_PORT", "0").env("CAPSTAN_DB_USER", "capstan")
                .env("CAPSTAN_DB_PASSWORD", "wrong-pw-5d2c").run("server", "--verbose");

        assertThat(run.exitCode()).isNotEqualTo(ExitCodes.OK);
        assertThat(run.err()).containsIgnoringCase("password").doesNotContain("wrong-pw-5d2c", "the-right-one");
    }

    @Test
    void rotatingTheSecretKeyReEncryptsStoredSecretsAndDeletesTheOldKey(@TempDir Path home) throws Exception {
        var env = Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0");
        String oldKey;
        try (var server = io.capstan.server.CapstanServer.start(CapstanConfig.fromEnvironment(env))) {
            var spec = io.capstan.core.Json.json().createObjectNode();
            spec.putObject("stringData").put("token", "rotate-me-4411");
            server.store().create(io.capstan.core.Resource.of("v1", "Secret", io.capstan.core.ObjectMeta.named("default", "s"), spec));
            oldKey = Files.readString(home.resolve("keys/current")).trim();
        }

        var cli = new Cli();
        env.forEach(cli::env);
        var run = cli.run("server", "--rotate-secret-key");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(ExitCodes.OK);
        var newKey = Files.readString(home.resolve("keys/current")).trim();
        assertThat(newKey).isNotEqualTo(oldKey);
        assertThat(run.out()).contains(newKey, "deleted the old keys " + oldKey);
        assertThat(home.resolve("keys/" + oldKey + ".key")).doesNotExist();
        try (var db = io.capstan.store.Database.open(CapstanConfig.embeddedDbUrl(home), "", "")) {
            var body = db.jdbi().withHandle(h -> h.createQuery("SELECT body FROM resources WHERE kind = 'Secret'").mapTo(String.class).one());
            assertThat(body).contains("capstan:v1:" + newKey + ":").doesNotContain("rotate-me-4411", oldKey);
        }
        try (var server = io.capstan.server.CapstanServer.start(CapstanConfig.fromEnvironment(env))) {
            var secret = server.store().get(new io.capstan.core.ResourceKey("Secret", "default", "s"));
            assertThat(secret.spec().path("stringData").path("token").asText()).isEqualTo("rotate-me-4411");
        }
    }

    @Test
    void aMalformedSecretKeyStopsTheStartNamingTheVariableButNotItsValue(@TempDir Path home) {
        var run = new Cli().env("CAPSTAN_HOME", home.toString()).env("CAPSTAN_PORT", "0")
                .env("CAPSTAN_SECRET_KEY", "c2hvcnQta2V5LXZhbHVl").run("server");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.err()).contains("CAPSTAN_SECRET_KEY", "32 bytes").doesNotContain("c2hvcnQta2V5LXZhbHVl", "short-key-value");
    }
}
