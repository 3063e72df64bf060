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

/** The CLI against a real server on embedded storage: apply, logs, get, describe, delete and their failures. */
class EndToEndTest {
    @TempDir
    static Path home;
    static CapstanServer server;

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
    void appliesAJobFollowsItsLogsAndShowsItFinished() throws Exception {
        var file = home.resolve("count.yaml");
        Files.writeString(file, """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: count, labels: {team: ml}}
                spec:
                  command: [sh, -c, 'for i in 1 2 3; do echo line $i; done']
                """);
        var applied = cli().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        assertThat(applied.out()).contains("job.capstan.io/count created");

        var logs = cli().run("logs", "-f", "count");
        assertThat(logs.exitCode()).as(logs.err()).isZero();
        assertThat(logs.out()).contains("line 1", "line 2", "line 3");

        var table = cli().run("get", "jobs", "-l", "team=ml");
        assertThat(table.out()).contains("NAME").contains("count");
        var yaml = cli().run("get", "job", "count", "-o", "yaml");
        assertThat(yaml.out()).contains("kind: Job").contains("resourceVersion: \"");
        var described = cli().run("describe", "job", "count");
        assertThat(described.out()).contains("Name:").contains("count").contains("Conditions:");

        assertThat(cli().run("delete", "job", "count").out()).contains("job.capstan.io \"count\" deleted");
        assertThat(cli().run("get", "job", "count").exitCode()).isEqualTo(3);
    }

    @Test
    void badInputIsOneSentenceNamingTheFileFieldAndLineWithExitCode5() throws Exception {
        var file = home.resolve("bad.yaml");
        Files.writeString(file, "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: Bad_Name}\nspec: {command: 5}\n");
        var run = cli().run("apply", "-f", file.toString());
        assertThat(run.exitCode()).isEqualTo(5);
        assertThat(run.err()).contains("bad.yaml:3: metadata.name").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(cli().run("get", "jobs", "-o", "json").out()).doesNotContain("Bad_Name");
    }

    @Test
    void unknownTypeIsAUsageError() {
        var run = cli().run("get", "gizmos");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("gizmos");
    }

    @Test
    void secretValuesShowOnlyWhenOneSecretIsReadAndNeverInListsOrDescribe() throws Exception {
        var file = home.resolve("secret.yaml");
        Files.writeString(file, """
                apiVersion: v1
                kind: Secret
                metadata: {name: db-creds}
                data: {password: aHVudGVyMi1lMmU=}
                stringData: {user: alice-e2e}
                """);
        var applied = cli().run("apply", "-f", file.toString(), "-o", "json");
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        assertThat(applied.out()).doesNotContain("aHVudGVyMi1lMmU=", "alice-e2e");

        var listed = cli().run("get", "secrets", "-o", "json");
        assertThat(listed.exitCode()).as(listed.err()).isZero();
        assertThat(listed.out()).contains("db-creds", "password", "user", "<redacted>").doesNotContain("aHVudGVyMi1lMmU=", "alice-e2e");
        var one = cli().run("get", "secret", "db-creds", "-o", "json");
        assertThat(one.out()).contains("aHVudGVyMi1lMmU=", "alice-e2e");
        var described = cli().run("describe", "secret", "db-creds");
        assertThat(described.out()).contains("password: 11 bytes", "user: 9 bytes").doesNotContain("aHVudGVyMi1lMmU=", "alice-e2e", "hunter2");
    }
}
