package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.server.CapstanServer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan tokens create|list|revoke} and {@code capstan audit} against a real server. */
class TokensCommandTest {
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

    /** As the server admin, through the local token file. */
    private static Cli admin() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    private static Cli as(String token) {
        return Cli.against(server.url()).env("CAPSTAN_TOKEN", token);
    }

    @Test
    void aTokenIsCreatedShownOnceListedAndRevoked() throws Exception {
        var created = admin().run("tokens", "create", "--user", "alice@example.com", "--expires", "30d", "--description", "laptop");
        assertThat(created.exitCode()).as(created.err()).isZero();
        var lines = created.out().lines().toList();
        assertThat(lines.get(0)).startsWith("token ").contains("created for alice@example.com, expires ").contains("shown only this once");
        var token = lines.get(1);
        assertThat(token).startsWith("capstan_");
        var id = lines.get(0).split(" ")[1];

        var listed = admin().run("tokens", "list");
        assertThat(listed.exitCode()).isZero();
        assertThat(listed.out()).contains("ID", "USER", "STATE", id, "alice@example.com", "active", "laptop").doesNotContain(token);
        var json = Json.json().readTree(admin().run("tokens", "list", "--user", "alice@example.com", "-o", "json").out());
        assertThat(json.path("items").get(0).path("id").asText()).isEqualTo(id);

        // Alice, with her token, sees her own and may make another for herself.
        var own = as(token).run("tokens", "create", "--expires", "12h", "-o", "yaml");
        assertThat(own.exitCode()).as(own.err()).isZero();
        assertThat(own.out()).contains("user: alice@example.com").contains("token: capstan_");
        assertThat(as(token).run("tokens", "list", "--user", "bob@example.com").exitCode()).isEqualTo(ExitCodes.FAILURE);
        assertThat(as(token).run("audit").exitCode()).isEqualTo(ExitCodes.FAILURE);

        var revoked = admin().run("tokens", "revoke", id);
        assertThat(revoked.exitCode()).as(revoked.err()).isZero();
        assertThat(revoked.out()).contains("token " + id + " of alice@example.com revoked");
        assertThat(admin().run("tokens", "list").out()).contains("revoked");
        var refused = as(token).run("tokens", "list");
        assertThat(refused.exitCode()).isEqualTo(ExitCodes.FAILURE);
        assertThat(refused.err()).contains("unknown, expired or revoked");
    }

    @Test
    void badInputExitsWithInvalidInputOrNotFound() {
        var badDuration = admin().run("tokens", "create", "--user", "alice@example.com", "--expires", "30x");
        assertThat(badDuration.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(badDuration.err()).contains("expires");
        var longDescription = admin().run("tokens", "create", "--user", "alice@example.com", "--description", "d".repeat(1001));
        assertThat(longDescription.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(longDescription.err()).contains("description");
        var hostile = admin().run("tokens", "create", "--user", "system:admin");
        assertThat(hostile.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(hostile.err()).contains("user");
        assertThat(admin().run("tokens", "create").exitCode()).as("the admin must name the user").isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(admin().run("tokens", "revoke", "0123456789abcdef").exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
        assertThat(admin().run("tokens", "revoke", "../../kinds").exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(admin().run("audit", "--since", "yesterday").exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(admin().run("audit", "--limit", "0").exitCode()).isEqualTo(ExitCodes.USAGE);
    }

    @Test
    void auditListsChangesAndRefusalsNewestFirst() throws Exception {
        assertThat(admin().run("tokens", "create", "--user", "dora@example.com").exitCode()).isZero();
        assertThat(as("capstan_forged").run("tokens", "list").exitCode()).isEqualTo(ExitCodes.FAILURE);

        var table = admin().run("audit", "--since", "1h");
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("TIME", "USER", "VERB", "OUTCOME", "system:admin", "create", "tokens", "denied (invalid)");
        var json = Json.json().readTree(admin().run("audit", "--user", "system:anonymous", "--limit", "1", "-o", "json").out());
        assertThat(json.path("items")).hasSize(1);
        assertThat(json.path("items").get(0).path("reason").asText()).isEqualTo("invalid");
    }

    @Test
    void aTokenFileStandsInForCapstanTokenAndBadOnesAreNamed() throws Exception {
        var created = admin().run("tokens", "create", "--user", "erin@example.com", "--expires", "1h");
        assertThat(created.exitCode()).as(created.err()).isZero();
        var file = java.nio.file.Files.writeString(home.resolve("erin-token"), created.out().lines().toList().get(1) + "\n");
        var noHome = home.resolve("no-admin-here").toString();
        var fromFile = Cli.against(server.url()).env("CAPSTAN_HOME", noHome).env("CAPSTAN_TOKEN_FILE", file.toString()).run("tokens", "list");
        assertThat(fromFile.exitCode()).as(fromFile.err()).isZero();
        assertThat(fromFile.out()).contains("erin@example.com");
        // CAPSTAN_TOKEN, when set, wins over the file.
        var both = Cli.against(server.url()).env("CAPSTAN_HOME", noHome).env("CAPSTAN_TOKEN", "capstan_forged")
                .env("CAPSTAN_TOKEN_FILE", file.toString()).run("tokens", "list");
        assertThat(both.exitCode()).isEqualTo(ExitCodes.FAILURE);

        var missing = Cli.against(server.url()).env("CAPSTAN_TOKEN_FILE", home.resolve("nope").toString()).run("tokens", "list");
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(missing.err()).contains("CAPSTAN_TOKEN_FILE").contains("cannot be read");
        var huge = java.nio.file.Files.writeString(home.resolve("huge-token"), "x".repeat(100_000));
        var tooBig = Cli.against(server.url()).env("CAPSTAN_TOKEN_FILE", huge.toString()).run("tokens", "list");
        assertThat(tooBig.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(tooBig.err()).contains("larger than a token can be");
    }

    @Test
    void theServerRefusesABadClusterUrlOrOneWithoutTheKubernetesBackend() {
        for (var bad : java.util.List.of("capstan.svc:8080", "ftp://capstan.svc", "http://user:pw@capstan.svc", "http://capstan.svc?x=1", "http://[::1")) {
            var run = Cli.against(server.url()).run("server", "--home", home.resolve("other").toString(), "--port", "0",
                    "--backend", "kubernetes", "--cluster-url", bad);
            assertThat(run.exitCode()).as(bad).isEqualTo(ExitCodes.USAGE);
            assertThat(run.err()).as(bad).contains("--cluster-url (CAPSTAN_CLUSTER_URL)");
        }
        var local = Cli.against(server.url()).run("server", "--home", home.resolve("other").toString(), "--port", "0",
                "--cluster-url", "http://capstan.capstan-system.svc:8080");
        assertThat(local.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(local.err()).contains("--cluster-url need --backend kubernetes");
    }

    @Test
    void theServerRefusesAnOidcIssuerWithoutAudience() {
        var run = Cli.against(server.url()).run("server", "--home", home.resolve("other").toString(), "--port", "0",
                "--oidc-issuer", "http://127.0.0.1:1/realms/x");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(run.err()).contains("--oidc-audience");
    }
}
