package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.capstan.core.Json;
import io.capstan.core.SecretKeyRing;
import io.capstan.core.SecretSealer;
import io.capstan.store.Database;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Webhook secrets at rest, on H2 and (with -Dcapstan.test.pg.url) PostgreSQL: a webhook added over HTTP is stored
 * sealed, its row holding no trace of the secret; a row stored in plain text before sealing existed is sealed when the
 * registry starts its webhooks and still signs deliveries with the same secret; a sealed secret copied onto another
 * webhook does not open, and its deliveries fail saying so instead of signing with it.
 */
class WebhookSecretsTest {
    static final String SECRET = "hunter2-hunter2-hunter2-zebra";
    static final String LEGACY_SECRET = "legacy-plain-secret-0123456789";
    final HttpClient http = HttpClient.newHttpClient();
    final SecretSealer sealer = new SecretSealer(SecretKeyRing.ofKey("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII)));
    final List<String[]> received = new CopyOnWriteArrayList<>();
    HttpServer receiver;
    String hookBase;

    @BeforeEach
    void receiver() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", exchange -> {
            var body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            received.add(new String[] {exchange.getRequestURI().getPath(), exchange.getRequestHeaders().getFirst(Events.SIGNATURE_HEADER), body});
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        receiver.start();
        hookBase = "http://127.0.0.1:" + receiver.getAddress().getPort();
    }

    @AfterEach
    void stopReceiver() {
        receiver.stop(0);
    }

    @Test
    void h2() throws Exception {
        try (var db = TestDatabases.h2()) {
            secretsAreSealedAtRest(db);
        }
    }

    @Test
    void postgres() throws Exception {
        var url = TestDatabases.pgUrl();
        var schema = TestDatabases.uniqueSchema("mr_hooks");
        try (var db = TestDatabases.postgres(url, schema)) {
            secretsAreSealedAtRest(db);
        } finally {
            TestDatabases.dropSchema(url, schema);
        }
    }

    void secretsAreSealedAtRest(Database db) throws Exception {
        // A row as a server before sealing wrote it: the secret in plain text.
        db.jdbi().useHandle(h -> h.createUpdate("INSERT INTO registry_webhook (namespace, url, secret, types, delivered_id, failures, create_time)"
                + " VALUES ('default', ?, ?, 'VERSION_CREATED', 0, 0, 0)").bind(0, hookBase + "/legacy").bind(1, LEGACY_SECRET).execute());
        TestServer server = new TestServer(db, (caller, namespace) -> Optional.empty(), null, 0, sealer);
        try {
            var added = call(server, "POST", "/webhooks", "{\"url\": \"" + hookBase + "/new\", \"secret\": \"" + SECRET + "\", \"events\": [\"VERSION_CREATED\"]}");
            assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
            assertThat(added.body()).doesNotContain(SECRET);
            Supplier<List<String>> stored = () -> db.jdbi().withHandle(h -> h.createQuery("SELECT secret FROM registry_webhook ORDER BY id").mapTo(String.class).list());
            assertThat(stored.get().get(1)).startsWith("capstan:v1:").doesNotContain(SECRET);
            assertThat(stored.get().get(0)).isEqualTo(LEGACY_SECRET);

            try (var hooks = server.registry.startWebhooks(2, Duration.ofMillis(20))) {
                // Started: the plain row is sealed in place.
                assertThat(stored.get()).allSatisfy(s -> assertThat(s).startsWith("capstan:v1:").doesNotContain(SECRET).doesNotContain(LEGACY_SECRET));
                assertThat(ModelRegistry.webhookSecretKeyIds(db)).containsExactly(sealer.ring().currentKeyId());
                var model = call(server, "POST", "/registered_models", "{\"name\": \"sealed\"}");
                assertThat(model.statusCode()).as(model.body()).isEqualTo(201);
                var version = call(server, "POST", "/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \""
                        + Json.json().readTree(model.body()).path("id").asText() + "\"}");
                assertThat(version.statusCode()).as(version.body()).isEqualTo(201);
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (received.size() < 2 && System.nanoTime() < deadline) Thread.sleep(20);
            }
            assertThat(received).hasSize(2);
            for (var r : received) {
                var expected = r[0].equals("/new") ? SECRET : LEGACY_SECRET;
                assertThat(r[1]).as(r[0]).isEqualTo("sha256=" + Events.sign(expected, r[2].getBytes(StandardCharsets.UTF_8)));
            }
            assertThat(ModelRegistry.resealWebhookSecrets(db, sealer)).isZero();

            // A sealed secret copied onto another webhook's row does not open there: bound to namespace and URL.
            received.clear();
            var sealedNew = stored.get().get(1);
            long lastEvent = db.jdbi().withHandle(h -> h.createQuery("SELECT MAX(id) FROM registry_event").mapTo(Long.class).one());
            db.jdbi().useHandle(h -> h.createUpdate("INSERT INTO registry_webhook (namespace, url, secret, types, delivered_id, failures, create_time)"
                    + " VALUES ('default', ?, ?, 'VERSION_CREATED', ?, 0, 0)").bind(0, hookBase + "/thief").bind(1, sealedNew).bind(2, lastEvent).execute());
            // A registry started again (as after a restart) with the same keys.
            server.close();
            server = new TestServer(db, (caller, namespace) -> Optional.empty(), null, 0, sealer);
            try (var hooks = server.registry.startWebhooks(1, Duration.ofMillis(20))) {
                var model = call(server, "GET", "/registered_model?name=sealed", null);
                var v2 = call(server, "POST", "/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + Json.json().readTree(model.body()).path("id").asText() + "\"}");
                assertThat(v2.statusCode()).isEqualTo(201);
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                String error = "";
                while (System.nanoTime() < deadline) {
                    error = "";
                    for (var w : Json.json().readTree(call(server, "GET", "/webhooks", null).body()).path("items")) {
                        if (w.path("url").asText().endsWith("/thief")) error = w.path("lastError").asText("");
                    }
                    if (!error.isEmpty()) break;
                    Thread.sleep(20);
                }
                assertThat(error).contains("does not decrypt").doesNotContain(SECRET);
            }
            assertThat(received).extracting(r -> r[0]).doesNotContain("/thief");
        } finally {
            server.close();
        }
    }

    HttpResponse<String> call(TestServer server, String method, String path, String json) throws Exception {
        var base = path.startsWith("/webhooks") ? server.extensionBase() : server.base();
        var req = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer admin").header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }
}
