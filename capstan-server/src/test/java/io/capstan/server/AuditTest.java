package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log over a real server: a record per mutating request and per refused one, with who, verb, namespace,
 * name and outcome; listed by the server admin only, with filters and paging; counted on /metrics; and a record the
 * database cannot take is counted, not turned into a failed request.
 */
class AuditTest {
    static final String AUDIT = "/apis/capstan/v1/audit";

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

    static List<JsonNode> records(String query) {
        var reply = server.get(AUDIT + query);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        var list = new ArrayList<JsonNode>();
        reply.json().path("items").forEach(list::add);
        return list;
    }

    static Optional<JsonNode> find(String user, String verb, String name) {
        return records("?user=" + java.net.URLEncoder.encode(user, java.nio.charset.StandardCharsets.UTF_8) + "&limit=1000").stream()
                .filter(r -> r.path("verb").asText().equals(verb) && r.path("name").asText().equals(name)).findFirst();
    }

    @Test
    void mutatingRequestsAreRecordedWithWhoWhatWhereAndOutcome() {
        assertThat(server.apply(ResourceApiTest.job("audited", "[\"true\"]")).status()).isEqualTo(200);
        assertThat(server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/audited", null, null).status()).isEqualTo(200);
        assertThat(server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/never-was", null, null).status()).isEqualTo(404);

        var apply = records("?user=system:admin&limit=1000").stream().filter(r -> r.path("verb").asText().equals("apply")).findFirst().orElseThrow();
        assertThat(apply.path("outcome").asText()).isEqualTo("success");
        assertThat(apply.path("method").asText()).isEqualTo("POST");
        var delete = find("system:admin", "delete", "audited").orElseThrow();
        assertThat(delete.path("namespace").asText()).isEqualTo("default");
        assertThat(delete.path("resource").asText()).isEqualTo("jobs");
        assertThat(delete.path("status").asInt()).isEqualTo(200);
        assertThat(delete.path("outcome").asText()).isEqualTo("success");
        assertThat(java.time.Instant.parse(delete.path("time").asText())).isBefore(java.time.Instant.now().plusSeconds(1));
        assertThat(find("system:admin", "delete", "never-was").orElseThrow().path("outcome").asText()).isEqualTo("failure");
        // Reads are not recorded.
        server.get("/apis/capstan/v1/namespaces/default/jobs");
        assertThat(records("?limit=1000")).noneMatch(r -> r.path("method").asText().equals("GET") && r.path("outcome").asText().equals("success"));
        assertThat(server.metric("capstan_audit_records_total", "verb=\"delete\"", "outcome=\"success\"")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void refusedRequestsAreRecordedAndCountedByReason() {
        double missingBefore = server.metric("capstan_auth_failures_total", "reason=\"missing\"");
        double invalidBefore = server.metric("capstan_auth_failures_total", "reason=\"invalid\"");
        assertThat(server.sendAs(null, "DELETE", "/apis/capstan/v1/namespaces/team/jobs/sneaky", null, null).status()).isEqualTo(401);
        assertThat(server.sendAs("capstan_forged", "GET", "/apis/capstan/v1/namespaces/team/jobs", null, null).status()).isEqualTo(401);
        var alice = server.server.tokens().createUserToken("alice@example.com", Optional.empty(), "").token();
        assertThat(server.sendAs(alice, "GET", AUDIT, null, null).status()).isEqualTo(403);

        var sneaky = find("system:anonymous", "delete", "sneaky").orElseThrow();
        assertThat(sneaky.path("outcome").asText()).isEqualTo("denied");
        assertThat(sneaky.path("reason").asText()).isEqualTo("missing");
        assertThat(sneaky.path("namespace").asText()).isEqualTo("team");
        assertThat(records("?user=system:anonymous&limit=1000")).anyMatch(r -> r.path("verb").asText().equals("list")
                && r.path("reason").asText().equals("invalid") && r.path("resource").asText().equals("jobs"));
        assertThat(records("?user=alice@example.com")).anyMatch(r -> r.path("resource").asText().equals("audit")
                && r.path("reason").asText().equals("forbidden") && r.path("status").asInt() == 403);

        assertThat(server.metric("capstan_auth_failures_total", "reason=\"missing\"")).isEqualTo(missingBefore + 1);
        assertThat(server.metric("capstan_auth_failures_total", "reason=\"invalid\"")).isEqualTo(invalidBefore + 1);
        assertThat(server.metric("capstan_auth_failures_total", "reason=\"forbidden\"")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void theLogPagesNewestFirstAndFiltersBySince() {
        for (int i = 0; i < 5; i++) server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/page-" + i, null, null);
        var first = server.get(AUDIT + "?user=system:admin&limit=2");
        assertThat(first.json().path("items")).hasSize(2);
        var next = first.json().path("metadata").path("continue").asText();
        assertThat(next).isNotEmpty();
        var second = server.get(AUDIT + "?user=system:admin&limit=2&continue=" + next);
        assertThat(second.json().path("items")).hasSize(2);
        var names = new ArrayList<String>();
        first.json().path("items").forEach(r -> names.add(r.path("name").asText()));
        second.json().path("items").forEach(r -> names.add(r.path("name").asText()));
        assertThat(names).startsWith("page-4", "page-3", "page-2", "page-1");

        assertThat(records("?since=1h&limit=1000")).isNotEmpty();
        assertThat(records("?since=2999-01-01T00:00:00Z")).isEmpty();
        for (var bad : List.of("?since=yesterday", "?limit=0", "?limit=5000", "?continue=abc")) {
            var reply = server.get(AUDIT + bad);
            assertThat(reply.status()).as(bad + ": " + reply.body()).isEqualTo(400);
        }
    }

    @Test
    void aRecordTheDatabaseRefusesIsCountedAndTheRequestStillAnswers() {
        var before = server.metric("capstan_audit_write_failures_total");
        server.server.database().jdbi().useHandle(h -> h.execute("ALTER TABLE audit_log RENAME TO audit_log_away"));
        try {
            assertThat(server.send("DELETE", "/apis/capstan/v1/namespaces/default/jobs/unrecorded", null, null).status()).isEqualTo(404);
            assertThat(server.metric("capstan_audit_write_failures_total")).isEqualTo(before + 1);
        } finally {
            server.server.database().jdbi().useHandle(h -> h.execute("ALTER TABLE audit_log_away RENAME TO audit_log"));
        }
    }
}
