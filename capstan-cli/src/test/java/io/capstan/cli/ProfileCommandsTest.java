package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.server.CapstanServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kubeflow's Profiles and RoleBindings through {@code capstan apply} and {@code capstan get}, as the admin and as users. */
class ProfileCommandsTest {
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

    private static Cli admin() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    private static Cli as(String user) {
        var token = server.tokens().createUserToken(user, Optional.empty(), "").token();
        return Cli.against(server.url()).env("CAPSTAN_TOKEN", token);
    }

    @Test
    void aProfileAppliedWithoutANamespaceCreatesItsNamespaceAndGetAllShowsUsersOnlyTheirs() throws Exception {
        var file = home.resolve("profiles.yaml");
        Files.writeString(file, """
                apiVersion: kubeflow.org/v1
                kind: Profile
                metadata: {name: ml-team}
                spec:
                  owner: {kind: User, name: ann@example.com}
                  resourceQuotaSpec: {hard: {cpu: "4", memory: 8Gi}}
                ---
                apiVersion: kubeflow.org/v1
                kind: Profile
                metadata: {name: other-team}
                spec:
                  owner: {kind: User, name: otto@example.com}
                """);
        var applied = admin().run("apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.err()).isZero();
        assertThat(applied.out()).contains("ml-team").contains("created");

        var listed = admin().run("get", "profiles");
        assertThat(listed.exitCode()).as(listed.err()).isZero();
        assertThat(listed.out()).contains("ml-team", "other-team");
        var one = admin().run("get", "profile", "ml-team", "-o", "yaml");
        assertThat(one.exitCode()).as(one.err()).isZero();
        assertThat(one.out()).contains("namespace: ml-team", "ann@example.com");

        var cm = home.resolve("cm.yaml");
        Files.writeString(cm, """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data: {k: v}
                """);
        var ann = as("ann@example.com");
        assertThat(ann.run("apply", "-f", cm.toString(), "-n", "ml-team").exitCode()).isZero();
        assertThat(admin().run("apply", "-f", cm.toString(), "-n", "other-team").exitCode()).isZero();
        var mine = ann.run("get", "configmaps", "-A");
        assertThat(mine.exitCode()).as(mine.err()).isZero();
        assertThat(mine.out()).contains("ml-team").doesNotContain("other-team");
        assertThat(ann.run("get", "profiles").out()).contains("ml-team").doesNotContain("other-team");

        var refused = ann.run("get", "configmaps", "-n", "other-team");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("kubeflow-view").contains("other-team");

        var deleted = admin().run("delete", "profile", "other-team");
        assertThat(deleted.exitCode()).as(deleted.err()).isZero();
        assertThat(admin().run("get", "profiles").out()).contains("ml-team").doesNotContain("other-team");
    }
}
