package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.security.WorkloadScope;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tokens API over a real server: the server admin manages everyone's tokens, a user only their own, a workload
 * none; the token's text is shown once; bad input is a 400 naming the field.
 */
class TokenApiTest {
    static final String TOKENS = "/apis/capstan/v1/tokens";

    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static TestServer.Reply create(String token, String json) {
        return server.sendAs(token, "POST", TOKENS, json, "application/json");
    }

    @Test
    void theAdminMakesAUsersTokenWhichIsShownOnceAndWorksUntilRevoked() {
        var made = server.send("POST", TOKENS, "{\"user\": \"alice@example.com\", \"expires\": \"30d\", \"description\": \"laptop\"}", "application/json");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        var token = made.json().path("token").asText();
        var id = made.json().path("id").asText();
        assertThat(token).startsWith("capstan_");
        assertThat(made.json().path("user").asText()).isEqualTo("alice@example.com");
        var expires = Instant.parse(made.json().path("expiresAt").asText());
        assertThat(Duration.between(Instant.now(), expires)).isBetween(Duration.ofDays(29), Duration.ofDays(30));

        // Listed without its text, by the admin and by alice herself.
        var listed = server.get(TOKENS + "?user=alice@example.com");
        assertThat(listed.status()).isEqualTo(200);
        assertThat(listed.body()).contains(id).contains("laptop").doesNotContain(token);
        var own = server.sendAs(token, "GET", TOKENS, null, null);
        assertThat(own.status()).as(own.body()).isEqualTo(200);
        assertThat(own.json().path("items")).allSatisfy(t -> assertThat(t.path("user").asText()).isEqualTo("alice@example.com"));

        assertThat(server.send("DELETE", TOKENS + "/" + id, null, null).status()).isEqualTo(200);
        assertThat(server.sendAs(token, "GET", TOKENS, null, null).status()).isEqualTo(401);
        var after = server.get(TOKENS + "/" + id);
        assertThat(after.json().path("active").asBoolean()).isFalse();
        assertThat(after.json().path("revokedAt").asText()).isNotEmpty();
    }

    @Test
    void aUserManagesOnlyTheirOwnTokens() {
        var bob = server.server.tokens().createUserToken("bob@example.com", java.util.Optional.empty(), "").token();
        var carol = server.server.tokens().createUserToken("carol@example.com", java.util.Optional.empty(), "");

        var forSelf = create(bob, "{\"expires\": \"12h\"}");
        assertThat(forSelf.status()).as(forSelf.body()).isEqualTo(201);
        assertThat(forSelf.json().path("user").asText()).isEqualTo("bob@example.com");
        assertThat(create(bob, "{\"user\": \"carol@example.com\"}").status()).isEqualTo(403);
        assertThat(server.sendAs(bob, "GET", TOKENS + "?user=carol@example.com", null, null).status()).isEqualTo(403);
        assertThat(server.sendAs(bob, "GET", TOKENS, null, null).body()).doesNotContain("carol@example.com");
        // Another user's token is as unknown to bob as a token that does not exist.
        assertThat(server.sendAs(bob, "DELETE", TOKENS + "/" + carol.info().id(), null, null).status()).isEqualTo(404);
        assertThat(server.server.tokens().get(carol.info().id()).orElseThrow().revokedAt()).isEmpty();
        assertThat(server.sendAs(bob, "DELETE", TOKENS + "/" + forSelf.json().path("id").asText(), null, null).status()).isEqualTo(200);
        // A user cannot read the audit log either.
        assertThat(server.sendAs(bob, "GET", "/apis/capstan/v1/audit", null, null).status()).isEqualTo(403);
    }

    @Test
    void aWorkloadTokenReachesNoTokenRoute() {
        var workload = server.server.tokens().createWorkloadToken(new WorkloadScope("default", WorkloadScope.TRIAL_OBSERVATIONS, "t1"),
                Duration.ofHours(1)).token();
        assertThat(server.sendAs(workload, "GET", TOKENS, null, null).status()).isEqualTo(403);
        assertThat(create(workload, "{\"user\": \"mallory@example.com\"}").status()).isEqualTo(403);
    }

    @Test
    void badInputIsA400NamingTheField() {
        expectInvalid(create(server.adminToken(), "{\"user\": \"alice@example.com\", \"expires\": \"30x\"}"), "expires");
        expectInvalid(create(server.adminToken(), "{\"user\": \"alice@example.com\", \"expires\": \"0d\"}"), "expires");
        expectInvalid(create(server.adminToken(), "{\"user\": \"alice@example.com\", \"expires\": \"99999d\"}"), "expires");
        expectInvalid(create(server.adminToken(), "{\"user\": \"alice@example.com\", \"description\": \"" + "d".repeat(1001) + "\"}"), "description");
        expectInvalid(create(server.adminToken(), "{\"user\": \"system:admin\"}"), "user");
        expectInvalid(create(server.adminToken(), "{\"user\": \"ali\\u202ece@example.com\"}"), "user");
        expectInvalid(create(server.adminToken(), "{\"user\": \"alice\\n@example.com\"}"), "user");
        expectInvalid(create(server.adminToken(), "{\"user\": \" alice@example.com\"}"), "user");
        expectInvalid(create(server.adminToken(), "{\"user\": \"" + "a".repeat(321) + "\"}"), "user");
        expectInvalid(create(server.adminToken(), "{\"user\": 7}"), "user");
        expectInvalid(create(server.adminToken(), "{}"), "user");
        expectInvalid(create(server.adminToken(), "{\"user\": \"alice@example.com\", \"role\": \"admin\"}"), "role");
        expectInvalid(server.send("DELETE", TOKENS + "/not-an-id", null, null), "id");
        assertThat(server.send("DELETE", TOKENS + "/0123456789abcdef", null, null).status()).isEqualTo(404);
        assertThat(server.server.tokens().list(java.util.Optional.of("system:admin"), true)).isEmpty();
    }

    static void expectInvalid(TestServer.Reply reply, String field) {
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.json().path("errors").get(0).path("field").asText()).as(reply.body()).isEqualTo(field);
    }
}
